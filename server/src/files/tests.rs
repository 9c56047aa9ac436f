use super::s3::parse_url;
use super::*;

#[test]
fn a_url_names_a_bucket_and_an_optional_prefix() {
    assert_eq!(
        parse_url("s3://tiles").unwrap(),
        ("tiles".into(), String::new())
    );
    assert_eq!(
        parse_url("s3://tiles/prod/eu/").unwrap(),
        ("tiles".into(), "prod/eu".into())
    );
    for bad in [
        "https://tiles",
        "s3://",
        "s3:///prefix",
        "s3://key:secret@tiles",
    ] {
        let e = parse_url(bad).unwrap_err().to_string();
        assert!(e.contains("--object-store-url"), "{bad}: {e}");
    }
}

#[test]
fn only_a_recorded_file_name_reaches_the_store_or_the_cache() {
    assert_eq!(
        key(Folder::Tiles, "/data/tiles/cf-1.0-abc.pivotal").unwrap(),
        "tiles/cf-1.0-abc.pivotal"
    );
    assert_eq!(key(Folder::Stemcells, "s.tgz").unwrap(), "stemcells/s.tgz");
    for bad in ["", "/data/tiles/..", "/data/tiles/.upload-x.part", "/"] {
        assert!(file_name(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn without_a_store_files_stay_where_they_were_recorded() {
    let dir = std::env::temp_dir().join(format!("tw-files-{}", crate::secrets::random_token(8)));
    let files = Files::open(&dir, None).await.unwrap();
    assert!(files.object_store_url().is_none());
    assert_eq!(files.dir(Folder::Tiles), dir.join("tiles"));
    let recorded = "/somewhere/else/t.pivotal";
    assert_eq!(
        files
            .local_copy(Folder::Tiles, recorded, Some("00"))
            .await
            .unwrap(),
        std::path::PathBuf::from(recorded)
    );
}
