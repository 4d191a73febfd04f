"""Process exit codes. Each code means one failure class; scripts may rely on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit status of the ``shibaws`` command."""

    OK = 0
    INTERNAL_ERROR = 1
    USAGE = 2
    AUTHENTICATION_FAILED = 3
    MFA_DENIED = 4
    MFA_TIMED_OUT = 5
    NO_USABLE_ROLE = 6
    STS_REJECTED = 7
    FILE_WRITE_FAILED = 8
    LOGIN_TIMED_OUT = 9
    BROWSER_FAILED = 10
    ASSERTION_INVALID = 11
    UNKNOWN_PAGE = 12
    STS_UNREACHABLE = 13
    MFA_LOCKED_OUT = 14
    INTERACTION_REQUIRED = 15
    PAGE_UNREACHABLE = 16
    # The backup command uses 20 to 29.
    BACKUP_PARTIAL = 20
    BACKUP_NOTHING_DONE = 21
    BACKUP_SOURCE_ERROR = 22
    BACKUP_CREDENTIALS_EXPIRED = 23
    # Multi-role logins and the credential commands use 30 to 39.
    # Some roles of a multi-role login got credentials and others failed.
    LOGIN_PARTIAL = 30
    # Credentials are missing or expired and no terminal is available to log in.
    LOGIN_REQUIRED = 31
    # The federation endpoint refused or failed to return a console sign-in token.
    FEDERATION_FAILED = 32
    # shibaws exec could not start the command, as a shell reports it.
    COMMAND_NOT_FOUND = 127
    CANCELLED = 130
    TERMINATED = 143
