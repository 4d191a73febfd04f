"""shibaws: AWS credentials through Shibboleth and Duo, and file-share backups to S3."""

__version__ = "0.1.0"
