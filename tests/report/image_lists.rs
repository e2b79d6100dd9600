//! Image lists (HEPiX / EGI AppDB format) as a policy source, end to end: a simulated site
//! whose images carry list metadata, lists from a file and from an HTTP server, an expired
//! list, the cached copy when the server is gone, and `drydock info`.

use crate::common;

use common::{drydock, run, NOW};
use serde_json::{json, Value};
use std::path::Path;

const FLEET: &str = r#"
[[accounts]]
name = "site"
cloud = "aws"
id = "111122223333"
regions = ["eu-west-1"]

[[families]]
name = "egi-ubuntu"
account = "site"
name_pattern = "egi-ubuntu-{version}"
versions = [
  { version = "2026.09", created_days_ago = 60, tags = { "dc:identifier" = "img-ubuntu", "hv:version" = "2026.09", "sl:checksum:sha512" = "aaa111" } },
  { version = "2026.11", created_days_ago = 5, tags = { "dc:identifier" = "img-ubuntu", "hv:version" = "2026.11", "sl:checksum:sha512" = "BBB222" } },
]

[[families]]
name = "egi-centos"
account = "site"
name_pattern = "egi-centos-{version}"
versions = [
  { version = "7.9", created_days_ago = 20, tags = { "drydock:image-list" = "legacy" } },
]

[[fleets]]
name = "old"
account = "site"
image = "egi-ubuntu@2026.09"
count = 2
size = "t3.small"
launched_days_ago = 50

[[fleets]]
name = "new"
account = "site"
image = "egi-ubuntu@2026.11"
count = 3
size = "t3.small"
launched_days_ago = 4

[[fleets]]
name = "centos"
account = "site"
image = "egi-centos@7.9"
count = 1
size = "t3.small"
launched_days_ago = 10
"#;

fn list(title: &str, expires_in_days: i64, images: Value) -> String {
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
    let expires = (now + chrono::Duration::days(expires_in_days)).to_rfc3339();
    json!({"hv:imagelist": {
        "dc:title": title, "hv:version": "42", "dc:date:created": NOW,
        "dc:date:expires": expires, "dc:identifier": "list-uuid",
        "hv:images": images,
    }})
    .to_string()
}

fn egi_list() -> String {
    list(
        "EGI basic images",
        30,
        json!([{"hv:image": {
            "dc:identifier": "img-ubuntu", "dc:title": "Ubuntu 22.04", "hv:version": "2026.11",
            "sl:checksum:sha512": "bbb222", "ad:mpuri": "https://appdb.egi.eu/store/vm/image/img-ubuntu:77/",
        }}]),
    )
}

fn setup(home: &Path, egi_source: &str) {
    std::fs::write(home.join("fleet.toml"), FLEET).unwrap();
    std::fs::write(home.join("legacy.list"), list("Legacy", -10, json!([]))).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[demo]\nfleet = {:?}\n\n[[policy.image_lists]]\nname = \"egi\"\nsource = {egi_source:?}\n\n\
             [[policy.image_lists]]\nname = \"legacy\"\nsource = {:?}\n",
            home.join("fleet.toml"),
            home.join("legacy.list")
        ),
    )
    .unwrap();
}

fn report(home: &Path) -> (i32, Value, String) {
    let (code, out, err) = run(drydock(home)
        .args([
            "report", "--demo", "--images", "--format", "json", "--config",
        ])
        .arg(home.join("config.toml")));
    let doc = serde_json::from_str(&out).unwrap_or(Value::Null);
    (code, doc, err)
}

fn verdicts(doc: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = doc["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                i["verdict"].as_str().unwrap().to_string(),
                i["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn assert_list_verdicts(doc: &Value) {
    let v = verdicts(doc);
    assert_eq!(v.len(), 3, "{v:?}");
    assert_eq!(v[0].0, "egi-centos-7.9");
    assert_eq!(v[0].1, "eol");
    assert_eq!(
        v[0].2,
        "image list legacy expired on 2026-11-13 (10 days ago)"
    );
    assert_eq!(v[1].0, "egi-ubuntu-2026.09");
    assert_eq!(v[1].1, "outdated");
    assert_eq!(
        v[1].2,
        "not in image list egi (version 42, checksum not listed); the list has 2026.11"
    );
    assert_eq!(v[2].0, "egi-ubuntu-2026.11");
    assert_eq!(
        v[2].1, "current",
        "the checksum matches case-insensitively: {v:?}"
    );
}

#[test]
fn a_list_file_drives_verdicts_and_info_shows_it() {
    let h = tempfile::tempdir().unwrap();
    let egi = h.path().join("egi.list");
    // An S/MIME-signed list: the JSON part is read (the signature is not verified).
    std::fs::write(
        &egi,
        format!(
            "MIME-Version: 1.0\nContent-Type: multipart/signed\n\n{}\n--sig--\n",
            egi_list()
        ),
    )
    .unwrap();
    setup(h.path(), egi.to_str().unwrap());
    let (code, doc, err) = report(h.path());
    assert_eq!(code, 0, "{err}");
    assert_list_verdicts(&doc);
    let (code, out, err) = run(drydock(h.path())
        .args(["info", "--config"])
        .arg(h.path().join("config.toml")));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("image list:   egi = \"EGI basic images\" version 42, 1 images, expires 2026-12-23 (in 30 days)"),
        "{out}"
    );
    assert!(
        out.contains("legacy = \"Legacy\" version 42, 0 images, EXPIRED 2026-11-13 (10 days ago)"),
        "{out}"
    );
    // A list that is not one: the warning names the list and the field, and the last
    // good copy stands in; without it, an error.
    std::fs::write(&egi, "{\"images\": []}").unwrap();
    let (code, doc, err) = report(h.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("image list egi:") && err.contains("no `hv:imagelist` object"),
        "{err}"
    );
    assert_list_verdicts(&doc);
    std::fs::remove_dir_all(h.path().join("data")).unwrap();
    let (code, _, err) = report(h.path());
    assert_eq!(code, 2);
    assert!(err.contains("no `hv:imagelist` object"), "{err}");
}

#[test]
fn a_list_url_is_cached_and_the_cache_stands_in_when_the_server_is_gone() {
    let h = tempfile::tempdir().unwrap();
    let served = h.path().join("www");
    std::fs::create_dir_all(&served).unwrap();
    std::fs::write(served.join("egi.list"), egi_list()).unwrap();
    let server = drydock_testkit::http::HttpServer::serve(&served);
    setup(h.path(), &server.url("egi.list"));
    let (code, doc, err) = report(h.path());
    assert_eq!(code, 0, "{err}");
    assert_list_verdicts(&doc);
    drop(server);
    let (code, doc, err) = report(h.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("image list egi: GET http://127.0.0.1"),
        "{err}"
    );
    assert!(err.contains("using the copy cached in"), "{err}");
    assert_list_verdicts(&doc);
    // Without a cache, an unreadable list is an error, never a silent pass.
    std::fs::remove_dir_all(h.path().join("data")).unwrap();
    let (code, _, err) = report(h.path());
    assert_eq!(code, 2);
    assert!(err.contains("no cached copy either"), "{err}");
}
