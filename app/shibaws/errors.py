"""Exceptions that end a command. Each carries the exit code it maps to.

Messages state what failed, with which value, and what to do next. They never
contain a password, secret key, session token or whole SAML assertion.
"""

from shibaws.exitcodes import ExitCode


class ShibawsError(Exception):
    """Base class for failures reported to the user as one line on stderr."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR


class UsageError(ShibawsError):
    exit_code = ExitCode.USAGE


class AuthenticationFailed(ShibawsError):
    """The IdP rejected the username or password."""

    exit_code = ExitCode.AUTHENTICATION_FAILED


class MfaDenied(ShibawsError):
    exit_code = ExitCode.MFA_DENIED


class MfaTimedOut(ShibawsError):
    exit_code = ExitCode.MFA_TIMED_OUT


class MfaLockedOut(ShibawsError):
    exit_code = ExitCode.MFA_LOCKED_OUT


class InteractionRequired(ShibawsError):
    """A page needs a decision that shibaws does not take for the user."""

    exit_code = ExitCode.INTERACTION_REQUIRED


class PageUnreachable(ShibawsError):
    """Firefox showed its own error page: connection refused, DNS failure, bad certificate."""

    exit_code = ExitCode.PAGE_UNREACHABLE


class NoUsableRole(ShibawsError):
    exit_code = ExitCode.NO_USABLE_ROLE


class StsRejected(ShibawsError):
    exit_code = ExitCode.STS_REJECTED


class StsUnreachable(ShibawsError):
    exit_code = ExitCode.STS_UNREACHABLE


class FileWriteFailed(ShibawsError):
    exit_code = ExitCode.FILE_WRITE_FAILED


class LoginTimedOut(ShibawsError):
    exit_code = ExitCode.LOGIN_TIMED_OUT


class BrowserFailed(ShibawsError):
    exit_code = ExitCode.BROWSER_FAILED


class AssertionInvalid(ShibawsError):
    """The SAML Response could not be read safely."""

    exit_code = ExitCode.ASSERTION_INVALID


class UnknownPage(ShibawsError):
    """The browser stopped on a page that no handler recognises."""

    exit_code = ExitCode.UNKNOWN_PAGE


class LoginRequired(ShibawsError):
    """Credentials are missing or expired and shibaws cannot log in without a terminal."""

    exit_code = ExitCode.LOGIN_REQUIRED


class FederationFailed(ShibawsError):
    """The AWS federation endpoint did not return a console sign-in token."""

    exit_code = ExitCode.FEDERATION_FAILED


class CommandNotFound(ShibawsError):
    exit_code = ExitCode.COMMAND_NOT_FOUND


class Cancelled(ShibawsError):
    exit_code = ExitCode.CANCELLED
