"""What each ``kubetune`` command does; `kubetune.cli` parses the arguments and imports
a command's module only when that command runs."""
