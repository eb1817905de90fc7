"""The file store's configuration, built in one place so the S3 tests run against exactly
what production uses (config/settings.py calls this for GRANTS_STORAGE=s3)."""


def s3_storage(*, bucket_name, access_key, secret_key, endpoint_url=None, region_name="eu-north-1", client_config=None):
    """STORAGES["default"] for an S3-compatible store.

    Nothing in the bucket is public (no ACL is set, so objects stay private; downloads
    stream through Django), and a stored key is never overwritten. The client gives up
    within seconds when the store does not answer, so the applicant gets a clear error
    instead of a request that hangs; tests pass a client_config with even shorter limits.
    """
    if client_config is None:
        from botocore.config import Config

        client_config = Config(
            connect_timeout=5, read_timeout=30, retries={"total_max_attempts": 3, "mode": "standard"}
        )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket_name,
            "endpoint_url": endpoint_url,
            "region_name": region_name,
            "access_key": access_key,
            "secret_key": secret_key,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,
            "client_config": client_config,
        },
    }
