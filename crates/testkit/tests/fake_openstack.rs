//! The fake OpenStack answers in the API reference's shapes: a token with its catalog,
//! Glance's `next` paging and data upload, Nova's `servers_links` paging, a server booted from
//! a volume whose image is in the volume's metadata, and 401 without a token.

use drydock_testkit::fake_openstack::{FakeOpenStack, PASSWORD, PROJECT_ID, USER};

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap()
}

#[test]
fn the_demo_site_answers_in_the_api_references_shapes() {
    let os = FakeOpenStack::demo();
    let auth = serde_json::json!({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": USER, "domain": {"id": "default"}, "password": PASSWORD}}},
        "scope": {"project": {"id": PROJECT_ID}}}});
    let (status, headers, body) = os.call(
        "POST",
        "/identity/v3/auth/tokens",
        &[("Content-Type", "application/json")],
        auth.to_string().as_bytes(),
    );
    assert_eq!(status, 201);
    let token = headers
        .iter()
        .find(|(k, _)| k == "x-subject-token")
        .map(|(_, v)| v.clone())
        .expect("X-Subject-Token");
    let catalog = json(&body)["token"]["catalog"].clone();
    let types: Vec<&str> = catalog
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["identity", "image", "compute", "volumev3"]);
    let auth_h = [("X-Auth-Token", token.as_str())];

    // Glance pages by `next`; the hidden image is only in `os_hidden=true` lists.
    let (_, _, body) = os.call("GET", "/image/v2/images?limit=2", &auth_h, b"");
    let first = json(&body);
    assert_eq!(first["images"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap().to_string();
    assert!(next.starts_with("/v2/images?"), "{next}");
    let (_, _, body) = os.call("GET", &format!("/image{next}&limit=10"), &auth_h, b"");
    let rest = json(&body);
    let statuses: Vec<&str> = rest["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"deactivated"), "{statuses:?}");
    let (_, _, body) = os.call("GET", "/image/v2/images?os_hidden=true", &auth_h, b"");
    assert_eq!(json(&body)["images"][0]["name"], "web-base-2026.09.1");

    // Nova pages by `servers_links`; a boot-from-volume server has no image of its own.
    let (_, _, body) = os.call("GET", "/compute/v2.1/servers/detail?limit=3", &auth_h, b"");
    let servers = json(&body);
    assert_eq!(servers["servers_links"][0]["rel"], "next");
    let bfv = &servers["servers"][2];
    assert_eq!(bfv["image"], "");
    let vol = bfv["os-extended-volumes:volumes_attached"][0]["id"]
        .as_str()
        .unwrap();
    let (_, _, body) = os.call(
        "GET",
        &format!("/volume/v3/{PROJECT_ID}/volumes/{vol}"),
        &auth_h,
        b"",
    );
    assert_eq!(
        json(&body)["volume"]["volume_image_metadata"]["image_id"],
        "11111111-0000-4000-8000-000000000002"
    );

    // An upload: queued, then active with the data's sha512; the data comes back.
    let (status, _, body) = os.call(
        "POST",
        "/image/v2/images",
        &auth_h,
        br#"{"name":"up","disk_format":"qcow2","container_format":"bare"}"#,
    );
    assert_eq!(status, 201);
    let up = json(&body);
    assert_eq!(up["status"], "queued");
    let id = up["id"].as_str().unwrap();
    let data = b"QFI\xfb some disk bytes";
    let file = format!("/image/v2/images/{id}/file");
    let octets = [auth_h[0], ("Content-Type", "application/octet-stream")];
    assert_eq!(os.call("PUT", &file, &octets, data).0, 204);
    let (_, _, body) = os.call("GET", &format!("/image/v2/images/{id}"), &auth_h, b"");
    let img = json(&body);
    assert_eq!(img["status"], "active");
    assert_eq!(img["os_hash_algo"], "sha512");
    assert_eq!(img["os_hash_value"].as_str().unwrap().len(), 128);
    assert_eq!(os.call("GET", &file, &auth_h, b"").2, data);

    // No token, no answer.
    assert_eq!(os.call("GET", "/image/v2/images", &[], b"").0, 401);
    assert!(os.log_text().contains("GET /image/v2/images 401"));
}
