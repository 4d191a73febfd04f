"""Back up local, NFS and SMB folders to S3."""
