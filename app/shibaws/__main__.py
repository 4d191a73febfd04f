"""Entry point: the only place that turns exceptions into a message and an exit code."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from shibaws import termination
from shibaws.cli import build_parser
from shibaws.errors import ShibawsError
from shibaws.exitcodes import ExitCode

logger = logging.getLogger("shibaws")


def configure_logging(verbosity: int) -> None:
    """Send log records to stderr: warnings by default, info with -v, debug with -vv."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    if verbosity >= 2:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s:%(lineno)d %(message)s")
        )
    else:
        handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("shibaws")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    termination.install()

    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("shibaws: cancelled", file=sys.stderr)
        return ExitCode.CANCELLED
    except termination.Terminated:
        print("shibaws: stopped by SIGTERM", file=sys.stderr)
        return ExitCode.TERMINATED
    except ShibawsError as error:
        print(f"shibaws: error: {error}", file=sys.stderr)
        return error.exit_code
    except Exception as error:  # last resort, so the user sees one line
        logger.debug("unexpected failure", exc_info=True)
        print(
            f"shibaws: internal error: {type(error).__name__}: {error} "
            "(run again with -vv for details)",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
