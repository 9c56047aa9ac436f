//! An S3-compatible object store through the `object_store` crate: `s3://bucket[/prefix]`,
//! configured from the standard AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, `AWS_REGION` or `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL`; an `http://`
//! endpoint is allowed, for a store on the local network). Secrets stay in the builder: only
//! the URL is ever logged or shown.
//!
//! Files move in and out with flat memory: uploads are multipart, [`PART_SIZE`] bytes a part
//! read from the spooled file, at most [`PARTS_IN_FLIGHT`] parts at once; downloads are written
//! to disk chunk by chunk as they arrive.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, RetryConfig, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Error, Result};

/// The size of one part of a multipart upload (S3 wants at least 5 MiB but for the last).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts uploading at once: memory for an upload stays under `(PARTS_IN_FLIGHT + 1) *
/// PART_SIZE` whatever the file's size.
pub const PARTS_IN_FLIGHT: usize = 2;

/// An object store holding Tileworks's files.
pub struct ObjectStoreFiles {
    store: Arc<dyn ObjectStore>,
    /// `s3://bucket[/prefix]` as given (no secrets: those come from the environment).
    url: String,
    /// Keys are `<prefix>/<folder>/<name>`; empty for the bucket's root.
    prefix: String,
}

/// `s3://bucket[/prefix]` read into the bucket and the prefix (without surrounding slashes).
pub fn parse_url(url: &str) -> Result<(String, String)> {
    let refuse = |why: &str| {
        Error::Config(format!(
            "--object-store-url {url}: {why}; expected s3://BUCKET or s3://BUCKET/PREFIX"
        ))
    };
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| refuse("only s3:// URLs are supported"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(refuse("the bucket is missing"));
    }
    if bucket.contains(['@', ':', '?', '#']) {
        return Err(refuse(
            "credentials and options do not belong in the URL (use the AWS_* variables)",
        ));
    }
    Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

impl ObjectStoreFiles {
    /// The store `url` names, with credentials, region and endpoint from the environment.
    pub fn from_env(url: &str) -> Result<ObjectStoreFiles> {
        let (bucket, prefix) = parse_url(url)?;
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let region = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&bucket)
            .with_region(region)
            // A few quick retries: a store that does not answer is reported within seconds
            // (the crate's default keeps trying for three minutes).
            .with_retry(RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..RetryConfig::default()
            });
        if let Some(endpoint) = var("AWS_ENDPOINT_URL") {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
        if let Some(id) = var("AWS_ACCESS_KEY_ID") {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = var("AWS_SECRET_ACCESS_KEY") {
            builder = builder.with_secret_access_key(secret);
        }
        if let Some(token) = var("AWS_SESSION_TOKEN") {
            builder = builder.with_token(token);
        }
        let store = builder
            .build()
            .map_err(|e| Error::Config(format!("--object-store-url {url}: {e}")))?;
        Ok(ObjectStoreFiles {
            store: Arc::new(store),
            url: url.trim_end_matches('/').to_owned(),
            prefix,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// A failure of `action` on this store, as the crate's error (a 502 naming the store).
    fn failed(&self, action: String, e: impl std::fmt::Display) -> Error {
        Error::ObjectStore {
            store: self.url.clone(),
            action,
            message: e.to_string(),
        }
    }

    /// Writes, reads back and deletes a small object: the start-up check that the bucket
    /// exists and the credentials may write, read and delete.
    pub async fn probe(&self) -> Result<()> {
        let key = format!(".probe-{}", crate::secrets::random_token(12));
        let path = self.path(&key);
        let written = b"tileworks object store probe".to_vec();
        self.store
            .put(&path, written.clone().into())
            .await
            .map_err(|e| self.failed(format!("writing {key}"), e))?;
        let read = self
            .store
            .get(&path)
            .await
            .map_err(|e| self.failed(format!("reading {key}"), e))?
            .bytes()
            .await
            .map_err(|e| self.failed(format!("reading {key}"), e))?;
        self.store
            .delete(&path)
            .await
            .map_err(|e| self.failed(format!("deleting {key}"), e))?;
        if read.as_ref() != written.as_slice() {
            return Err(self.failed(
                format!("reading {key}"),
                "the object read back differs from the one written",
            ));
        }
        Ok(())
    }

    /// Uploads the file at `file` as `key`, in multipart parts read from disk one at a time.
    /// A failed upload is aborted, so the store keeps no parts of it.
    pub async fn put_file(&self, key: &str, file: &Path) -> Result<()> {
        let action = format!("uploading {key}");
        let upload = self
            .store
            .put_multipart(&self.path(key))
            .await
            .map_err(|e| self.failed(action.clone(), e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let copied = async {
            let mut source = tokio::fs::File::open(file)
                .await
                .map_err(|e| Error::io(format!("opening {}", file.display()), e))?;
            let mut buf = vec![0u8; 1024 * 1024];
            loop {
                let n = source
                    .read(&mut buf)
                    .await
                    .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
                if n == 0 {
                    return Ok(());
                }
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| self.failed(action.clone(), e))?;
                writer.write(&buf[..n]);
            }
        }
        .await;
        match copied {
            Ok(()) => writer
                .finish()
                .await
                .map(|_| ())
                .map_err(|e| self.failed(action, e)),
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key, error = %abort, "aborting a multipart upload");
                }
                Err(e)
            }
        }
    }

    /// Downloads `key` into the new file `to` chunk by chunk, answering the content's SHA-256.
    /// The caller owns `to` (and removes it on failure).
    pub async fn get_to_file(&self, key: &str, to: &Path) -> Result<String> {
        let action = format!("downloading {key}");
        let got = self
            .store
            .get(&self.path(key))
            .await
            .map_err(|e| self.failed(action.clone(), e))?;
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options
            .open(to)
            .await
            .map_err(|e| Error::io(format!("creating {}", to.display()), e))?;
        let mut out = tokio::io::BufWriter::with_capacity(1024 * 1024, file);
        let mut hasher = Sha256::new();
        let mut chunks = got.into_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| self.failed(action.clone(), e))?;
            hasher.update(&chunk);
            out.write_all(&chunk)
                .await
                .map_err(|e| Error::io(format!("writing {}", to.display()), e))?;
        }
        out.flush()
            .await
            .map_err(|e| Error::io(format!("writing {}", to.display()), e))?;
        out.get_ref()
            .sync_all()
            .await
            .map_err(|e| Error::io(format!("writing {}", to.display()), e))?;
        Ok(hex::encode(hasher.finalize()))
    }

    /// Whether `key` is in the store.
    pub async fn exists(&self, key: &str) -> Result<bool> {
        match self.store.head(&self.path(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.failed(format!("looking up {key}"), e)),
        }
    }

    /// Deletes `key`; one already gone is fine.
    pub async fn delete(&self, key: &str) -> Result<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed(format!("deleting {key}"), e)),
        }
    }
}
