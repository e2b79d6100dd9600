//! Glance images and Nova servers as the APIs answer them, and as drydock's records: an
//! image's custom properties (`drydock:*`, `cm-source`, `ad:mpuri`, `os_distro`, `hw_*`) and
//! its checksums become tags, its Glance tags `tag:NAME`; a server's metadata and tags the
//! same. Status decides the state: deactivated is disabled (revoked), hidden deprecated,
//! an image not (yet or any more) holding data is not launchable.

use chrono::{DateTime, Utc};
use drydock_api::{Cloud, Image, ImageState, Tags, Vm, VmState};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The tag that carries a Glance or Nova tag `NAME`: `tag:NAME`.
pub const TAG_PREFIX: &str = "tag:";

/// Image keys Glance owns; every other top-level key is a custom property.
const CORE: [&str; 23] = [
    "id",
    "name",
    "status",
    "visibility",
    "owner",
    "protected",
    "os_hidden",
    "tags",
    "created_at",
    "updated_at",
    "disk_format",
    "container_format",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "min_disk",
    "min_ram",
    "file",
    "self",
    "schema",
    "locations",
];

/// Core keys that are kept as tags too (what verifies and describes the content).
const KEPT: [&str; 6] = [
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "disk_format",
    "visibility",
    "status",
];

/// A Glance v2 image.
#[derive(Deserialize, Debug, Clone)]
pub struct GlanceImage {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub status: String,
    #[serde(default)]
    pub visibility: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub os_hidden: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub disk_format: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub virtual_size: Option<u64>,
    #[serde(default)]
    pub os_hash_algo: Option<String>,
    #[serde(default)]
    pub os_hash_value: Option<String>,
    /// Everything else: the custom properties.
    #[serde(flatten)]
    pub rest: BTreeMap<String, serde_json::Value>,
}

/// A property's value as text (strings as they are, anything else as JSON).
fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl GlanceImage {
    /// A property (custom or kept core) as text.
    pub fn property(&self, key: &str) -> Option<String> {
        match key {
            "os_hash_value" => self.os_hash_value.clone(),
            "os_hash_algo" => self.os_hash_algo.clone(),
            "disk_format" => self.disk_format.clone(),
            "visibility" => Some(self.visibility.clone()),
            "status" => Some(self.status.clone()),
            _ => self.rest.get(key).and_then(text),
        }
    }

    /// The image as drydock's record; `project` is the scanning project (an image another
    /// project owns, public or shared, is a vendor base).
    pub fn to_image(&self, project: &str, region: &str, now: DateTime<Utc>) -> Image {
        let mut tags = Tags::new();
        for (k, v) in &self.rest {
            if CORE.contains(&k.as_str()) {
                continue;
            }
            if let Some(v) = text(v) {
                tags.insert(k.as_str(), v);
            }
        }
        for k in KEPT {
            if let Some(v) = self.property(k).filter(|v| !v.is_empty()) {
                tags.insert(k, v);
            }
        }
        for t in &self.tags {
            tags.insert(format!("{TAG_PREFIX}{t}"), "true");
        }
        let owner = self.owner.clone().unwrap_or_default();
        let state = match self.status.as_str() {
            "active" if self.os_hidden => ImageState::Deprecated,
            "active" => ImageState::Available,
            "deactivated" => ImageState::Disabled,
            "killed" | "deleted" | "pending_delete" => ImageState::Deregistered,
            // queued, saving, uploading, importing: no data yet, nothing launches from it.
            _ => ImageState::Disabled,
        };
        let created = self.created_at.unwrap_or(now);
        Image {
            id: self.id.clone(),
            name: self.name.clone().unwrap_or_else(|| self.id.clone()),
            cloud: Cloud::OpenStack,
            account: owner.clone(),
            region: region.to_string(),
            created,
            state,
            // drydock's record of when; else hidden since it was last changed (Glance keeps
            // no separate time).
            deprecation_time: self
                .property(crate::ops::DEPRECATION_TIME)
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
                .or_else(|| {
                    (state == ImageState::Deprecated).then(|| self.updated_at.unwrap_or(created))
                }),
            end_of_life: None,
            vendor: !owner.is_empty()
                && owner != project
                && matches!(self.visibility.as_str(), "public" | "shared" | "community"),
            owner,
            newer_base: None,
            tags,
        }
    }
}

/// For each vendor image, the newest active, visible image of the same owner and the same
/// `os_distro` and `os_version` (or, without them, the same name up to its last `-`).
pub fn newer_bases(images: &mut [Image]) {
    fn series(i: &Image) -> Option<(String, String)> {
        if !i.vendor {
            return None;
        }
        let key = match (i.tags.get("os_distro"), i.tags.get("os_version")) {
            (Some(d), Some(v)) => format!("{d} {v}"),
            _ => i.name.rsplit_once('-').map(|(s, _)| s.to_string())?,
        };
        Some((i.owner.clone(), key))
    }
    let mut best: BTreeMap<(String, String), (DateTime<Utc>, String)> = BTreeMap::new();
    for i in images.iter() {
        if i.state != ImageState::Available {
            continue;
        }
        if let Some(k) = series(i) {
            let e = best.entry(k).or_insert((i.created, i.id.clone()));
            if i.created > e.0 {
                *e = (i.created, i.id.clone());
            }
        }
    }
    for i in images.iter_mut() {
        if let Some((_, id)) = series(i).and_then(|k| best.get(&k)) {
            if *id != i.id {
                i.newer_base = Some(id.clone());
            }
        }
    }
}

/// A Nova server (microversion 2.47 and later: the flavor embedded).
#[derive(Deserialize, Debug, Clone)]
pub struct NovaServer {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: String,
    /// `{"id": …}`, or `""` for a server booted from a volume.
    #[serde(default)]
    pub image: serde_json::Value,
    #[serde(default)]
    pub flavor: serde_json::Value,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
    #[serde(rename = "OS-SRV-USG:launched_at", default)]
    pub launched_at: Option<String>,
    #[serde(default)]
    pub key_name: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub addresses: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub security_groups: Vec<NamedRef>,
    #[serde(rename = "os-extended-volumes:volumes_attached", default)]
    pub volumes: Vec<VolumeRef>,
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    pub task_state: Option<String>,
    #[serde(rename = "OS-EXT-STS:power_state", default)]
    pub power_state: Option<i64>,
    #[serde(rename = "OS-EXT-SRV-ATTR:user_data", default)]
    pub user_data: Option<String>,
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    pub availability_zone: Option<String>,
}

#[derive(Deserialize, Debug, Clone)]
pub struct NamedRef {
    pub name: String,
}

#[derive(Deserialize, Debug, Clone)]
pub struct VolumeRef {
    pub id: String,
}

impl NovaServer {
    /// The image id the server was booted from, when Nova names it (not from a volume).
    pub fn image_id(&self) -> Option<&str> {
        self.image
            .get("id")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    }

    /// The flavor's name (2.47+: `original_name`; before: its id).
    pub fn flavor_name(&self) -> String {
        ["original_name", "name", "id"]
            .iter()
            .find_map(|k| self.flavor.get(*k).and_then(|v| v.as_str()))
            .unwrap_or("")
            .to_string()
    }

    /// The flavor reference to launch a like server with (its id where Nova gives it).
    pub fn flavor_ref(&self) -> String {
        ["id", "original_name", "name"]
            .iter()
            .find_map(|k| self.flavor.get(*k).and_then(|v| v.as_str()))
            .unwrap_or("")
            .to_string()
    }

    /// The server as drydock's record; `image` is the resolved image id (from the boot
    /// volume for a server booted from one).
    pub fn to_vm(&self, project: &str, region: &str, image: &str, now: DateTime<Utc>) -> Vm {
        let mut tags = Tags::new();
        for (k, v) in &self.metadata {
            tags.insert(k.as_str(), v.as_str());
        }
        for t in &self.tags {
            tags.insert(format!("{TAG_PREFIX}{t}"), "true");
        }
        if self.image_id().is_none() && !self.volumes.is_empty() {
            tags.insert("boot", "volume");
        }
        let state = match self.status.as_str() {
            "ACTIVE" => VmState::Running,
            "BUILD" | "REBUILD" | "RESIZE" | "VERIFY_RESIZE" | "MIGRATING" | "REBOOT"
            | "HARD_REBOOT" | "PASSWORD" | "RESCUE" => VmState::Pending,
            "SHUTOFF" | "SUSPENDED" | "PAUSED" | "SHELVED" | "SHELVED_OFFLOADED" | "STOPPED" => {
                VmState::Stopped
            }
            "DELETED" | "SOFT_DELETED" => VmState::Terminated,
            _ => VmState::Unknown,
        };
        let launched = self
            .launched_at
            .as_deref()
            .and_then(|t| {
                chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|n| n.and_utc())
                    .or_else(|| t.parse::<DateTime<Utc>>().ok())
            })
            .or(self.created)
            .unwrap_or(now);
        let mut boot_config = Vec::new();
        if self.user_data.as_deref().is_some_and(|u| !u.is_empty()) {
            boot_config.push("user data".to_string());
        }
        Vm {
            id: self.id.as_str().into(),
            name: self.name.as_str().into(),
            cloud: Cloud::OpenStack,
            account: self.tenant_id.as_deref().unwrap_or(project).into(),
            region: region.into(),
            state,
            size: self.flavor_name().into(),
            launched_at: launched,
            image_id: image.into(),
            tags,
            scale_group: None,
            boot_config,
        }
    }
}

/// A page of `GET /v2/images`.
#[derive(Deserialize)]
pub struct ImagePage {
    pub images: Vec<GlanceImage>,
    #[serde(default)]
    pub next: Option<String>,
}

/// A page of `GET /servers/detail`.
#[derive(Deserialize)]
pub struct ServerPage {
    pub servers: Vec<NovaServer>,
    #[serde(default)]
    pub servers_links: Vec<Link>,
}

#[derive(Deserialize)]
pub struct Link {
    pub rel: String,
    pub href: String,
}

impl ServerPage {
    pub fn next(&self) -> Option<&str> {
        self.servers_links
            .iter()
            .find(|l| l.rel == "next")
            .map(|l| l.href.as_str())
    }
}

/// A Cinder volume (only what finds a boot volume's image).
#[derive(Deserialize)]
pub struct VolumeBody {
    pub volume: Volume,
}

#[derive(Deserialize)]
pub struct Volume {
    #[serde(default)]
    pub volume_image_metadata: BTreeMap<String, serde_json::Value>,
}

impl Volume {
    pub fn image_id(&self) -> Option<String> {
        self.volume_image_metadata
            .get("image_id")
            .and_then(|v| v.as_str())
            .map(String::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(json: &str) -> GlanceImage {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn images_become_records() {
        let now = Utc::now();
        let i = image(
            r#"{"id":"a","name":"web","status":"active","visibility":"private","owner":"p",
               "os_hidden":true,"tags":["golden"],"created_at":"2026-10-01T00:00:00Z",
               "updated_at":"2026-10-02T00:00:00Z","drydock:family":"web","hw_disk_bus":"virtio",
               "min_ram":0,"os_hash_value":"ab"}"#,
        )
        .to_image("p", "RegionOne", now);
        assert_eq!(i.state, ImageState::Deprecated);
        assert!(!i.vendor);
        assert_eq!(i.tags.get("drydock:family"), Some("web"));
        assert_eq!(i.tags.get("hw_disk_bus"), Some("virtio"));
        assert_eq!(i.tags.get("tag:golden"), Some("true"));
        assert_eq!(i.tags.get("os_hash_value"), Some("ab"));
        assert!(i.tags.get("min_ram").is_none());
        let v = image(r#"{"id":"b","status":"deactivated","visibility":"public","owner":"o"}"#)
            .to_image("p", "r", now);
        assert_eq!((v.state, v.vendor), (ImageState::Disabled, true));
        let q = image(r#"{"id":"c","status":"queued"}"#).to_image("p", "r", now);
        assert_eq!(q.state, ImageState::Disabled);
    }

    #[test]
    fn vendor_series_name_their_newest() {
        let now = Utc::now();
        let mut imgs: Vec<Image> = [
            (r#"{"id":"u1","status":"active","visibility":"public","owner":"o","os_distro":"ubuntu","os_version":"22.04","created_at":"2026-01-01T00:00:00Z"}"#),
            (r#"{"id":"u2","status":"active","visibility":"public","owner":"o","os_distro":"ubuntu","os_version":"22.04","created_at":"2026-06-01T00:00:00Z"}"#),
        ]
        .iter()
        .map(|j| image(j).to_image("p", "r", now))
        .collect();
        newer_bases(&mut imgs);
        assert_eq!(imgs[0].newer_base.as_deref(), Some("u2"));
        assert_eq!(imgs[1].newer_base, None);
    }

    #[test]
    fn servers_become_records() {
        let s: NovaServer = serde_json::from_str(
            r#"{"id":"s","name":"web-3","status":"SHUTOFF","image":"","flavor":{"original_name":"m1.large"},
               "metadata":{"app":"web"},"tags":["prod"],"created":"2026-10-01T00:00:00Z",
               "os-extended-volumes:volumes_attached":[{"id":"v"}],"OS-EXT-SRV-ATTR:user_data":"eA=="}"#,
        )
        .unwrap();
        assert_eq!(s.image_id(), None);
        let vm = s.to_vm("p", "r", "img", Utc::now());
        assert_eq!(vm.state, VmState::Stopped);
        assert_eq!(vm.size.as_str(), "m1.large");
        assert_eq!(vm.tags.get("tag:prod"), Some("true"));
        assert_eq!(vm.tags.get("boot"), Some("volume"));
        assert_eq!(vm.boot_config, vec!["user data".to_string()]);
    }
}
