/*
 * The pod sandbox's placeholder process: holds the pod's namespaces open, reaps orphaned
 * children (it is PID 1 when pods share a process namespace), and exits on SIGTERM or
 * SIGINT. Our own, so the e2e tier builds its sandbox image offline with gcc -static.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signum) { _exit(128 + signum); }

static void reap(int signum) {
  (void)signum;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction on_stop = {.sa_handler = stop};
  struct sigaction on_child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
  sigaction(SIGTERM, &on_stop, NULL);
  sigaction(SIGINT, &on_stop, NULL);
  sigaction(SIGCHLD, &on_child, NULL);
  for (;;) {
    pause();
  }
  return EXIT_FAILURE; /* not reached */
}
