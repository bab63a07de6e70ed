"""What stops a local run before it starts, apart from an invalid spec: a module of its
own so that the command line can name these errors without loading the runner."""


class ResumeConflictError(ValueError):
    """The directory holds a run of a different spec under the same experiment name."""


class ExperimentSuspendedError(RuntimeError):
    """`spec.suspend` is true: the run started nothing and recorded the Suspended condition."""
