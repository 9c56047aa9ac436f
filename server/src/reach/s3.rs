//! An S3 bucket asked to take an object (BlobstoreVerifier, the Director's S3 blobstore): a
//! small object written under a random key and deleted again, signed with the key pair given
//! (SigV4, through the `object_store` crate the server's own file store uses). Listing alone
//! would pass a bucket that refuses writes, which fails at the first backup or upload.

use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload, RetryConfig};

use super::Failure;

/// The settings of one bucket to write to (see `tiles::verifiers::Target::S3Write`).
pub struct Bucket<'a> {
    pub endpoint: Option<&'a str>,
    pub region: &'a str,
    pub bucket: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub path_style: bool,
}

/// Writes and deletes one object in the bucket.
pub async fn write(b: &Bucket<'_>) -> Result<(), Failure> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(b.bucket)
        .with_region(b.region)
        .with_access_key_id(b.access_key_id)
        .with_secret_access_key(b.secret_access_key)
        .with_virtual_hosted_style_request(!b.path_style)
        // One try: a verifier reports within seconds, and a retry only repeats the refusal.
        .with_retry(RetryConfig {
            max_retries: 0,
            retry_timeout: Duration::from_secs(5),
            ..RetryConfig::default()
        });
    if let Some(endpoint) = b.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    let store = builder
        .build()
        .map_err(|e| Failure::Unreachable(format!("S3 settings: {e}")))?;
    let key = Path::from(format!("tileworks-verifier-{:016x}", rand::random::<u64>()));
    store
        .put(
            &key,
            PutPayload::from_static(b"written by Tileworks's BlobstoreVerifier\n"),
        )
        .await
        .map_err(|e| failure(b.bucket, "write", e))?;
    store
        .delete(&key)
        .await
        .map_err(|e| failure(b.bucket, "delete", e))?;
    Ok(())
}

fn failure(bucket: &str, what: &str, e: object_store::Error) -> Failure {
    // The crate's messages name the URL and the service's answer, never the keys.
    match e {
        object_store::Error::Unauthenticated { .. }
        | object_store::Error::PermissionDenied { .. } => {
            Failure::Refused(format!("{what} refused: {e}"))
        }
        object_store::Error::NotFound { .. } => {
            Failure::Unreachable(format!("the bucket {bucket} does not exist ({what}: {e})"))
        }
        other => Failure::Unreachable(format!("{what}: {other}")),
    }
}
