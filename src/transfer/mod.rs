//! Moving a disk between local files and clouds through the conversion engine, streamed:
//! a source reader (a local image of any format, or a cloud disk's verified blocks) feeds
//! the pump, which feeds a destination writer (any local format, or a cloud upload of the
//! blocks that hold data). No full-size temporary file; memory is bounded by the queue
//! depths. [`prepare`] opens the source and checks the destination (what a dry run shows);
//! [`run`] moves the bytes once the gate has admitted the change.

pub mod cloud_read;
pub mod cloud_write;
pub mod endpoint;
mod hashing;
pub mod pending;
pub mod provenance;
mod run;

pub use endpoint::{CloudRef, Endpoint, EndpointError};
pub use run::{run, Outcome};

use crate::convert::{self, ConvertError, DiskReader, Format};
use crate::gate::{Admitted, Confirmation, Gate, GateError};
use drydock_api::transfer::{ImageSettings, ImageTransfer, SourceImage, UploadRequest};
use drydock_api::Provider;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// Image settings given as flags (each overrides the source image's).
#[derive(Clone, Debug, Default)]
pub struct SettingsFlags {
    pub architecture: Option<String>,
    pub boot_mode: Option<String>,
    pub ena: Option<bool>,
    pub root_device: Option<String>,
    pub os_type: Option<String>,
}

/// What the command line asked for.
#[derive(Clone, Debug)]
pub struct Request {
    pub source: Endpoint,
    pub dest: Endpoint,
    pub provenance: provenance::Flags,
    /// The destination image's name (default: `FAMILY-VERSION`).
    pub name: Option<String>,
    pub settings: SettingsFlags,
    /// A local destination's format (default: from its extension).
    pub to: Option<Format>,
    /// Replace an existing local destination.
    pub force: bool,
    /// Blocks in flight each way.
    pub concurrency: usize,
}

/// Where the bytes come from. (One per transfer: the variants' sizes do not matter.)
#[allow(clippy::large_enum_variant)]
pub enum Opened {
    Local {
        path: PathBuf,
        reader: Box<dyn DiskReader>,
    },
    /// Described, not yet opened (opening may create a temporary disk: after the gate).
    Cloud {
        provider: Arc<dyn Provider>,
        cref: CloudRef,
        image: SourceImage,
    },
}

/// Where they go.
#[allow(clippy::large_enum_variant)]
pub enum Destination {
    Local {
        path: PathBuf,
        format: Format,
    },
    Cloud {
        provider: Arc<dyn Provider>,
        upload: UploadRequest,
        cref: CloudRef,
    },
}

/// A transfer checked and ready: the source is open, the destination validated.
pub struct Transfer {
    pub source: Opened,
    pub dest: Destination,
    /// The source's name for `drydock:source` and messages.
    pub source_name: String,
    pub virtual_size: u64,
    /// Provenance to carry (without `drydock:source`, which needs the digest).
    pub tags: BTreeMap<String, String>,
    /// What will be created, one line each (the dry run's output).
    pub plan: Vec<String>,
    pub concurrency: usize,
}

/// Why a transfer cannot start or failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The request cannot be carried out as asked (a side, a context, a flag): what to fix.
    #[error("{0}")]
    Usage(String),
    /// A side written wrong.
    #[error(transparent)]
    Side(#[from] EndpointError),
    /// A local disk's provenance sidecar cannot be read.
    #[error(transparent)]
    Sidecar(#[from] provenance::SidecarError),
    #[error(transparent)]
    Engine(#[from] ConvertError),
    #[error(transparent)]
    Cloud(#[from] drydock_api::ProviderError),
}

fn transfer_of<'a>(
    providers: &'a HashMap<String, Arc<dyn Provider>>,
    c: &CloudRef,
) -> Result<(&'a Arc<dyn Provider>, &'a dyn ImageTransfer), TransferError> {
    let p = providers
        .get(&c.context)
        .ok_or_else(|| TransferError::Usage(format!("{c}: no context named {}", c.context)))?;
    let cloud = p.cloud().to_string().to_ascii_lowercase();
    if cloud != c.cloud {
        return Err(TransferError::Usage(format!(
            "{c}: context {} is an {} context, not {}",
            c.context, cloud, c.cloud
        )));
    }
    Ok((p, transfer_in(p, c)?))
}

/// What `provider` (the context of `c`) can do for a transfer.
pub(super) fn transfer_in<'a>(
    provider: &'a Arc<dyn Provider>,
    c: &CloudRef,
) -> Result<&'a dyn ImageTransfer, TransferError> {
    provider.transfer().ok_or_else(|| {
        TransferError::Usage(format!("{c}: context {} cannot move disks", c.context))
    })
}

fn settings(from: &ImageSettings, flags: &SettingsFlags) -> ImageSettings {
    let pick = |f: &Option<String>, s: &str| f.clone().unwrap_or_else(|| s.to_string());
    ImageSettings {
        architecture: pick(&flags.architecture, &from.architecture),
        boot_mode: pick(&flags.boot_mode, &from.boot_mode),
        ena: flags.ena.unwrap_or(from.ena),
        root_device: pick(&flags.root_device, &from.root_device),
        os_type: pick(&flags.os_type, &from.os_type),
    }
}

/// A token naming one transfer attempt (tagged on what it creates).
pub fn token() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("dd-{:x}-{:x}", nanos, std::process::id())
}

/// Open the source and check the destination; nothing is created.
pub fn prepare(
    req: &Request,
    providers: &HashMap<String, Arc<dyn Provider>>,
    rt: &tokio::runtime::Handle,
) -> Result<Transfer, TransferError> {
    let (source, source_name, source_tags, source_settings) = match &req.source {
        Endpoint::Local(path) => {
            let reader = convert::open_reader(path, None)?;
            let tags = provenance::read_sidecar(path)?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into(),
            );
            let opened = Opened::Local {
                path: path.clone(),
                reader,
            };
            // A local disk says nothing of how it boots: the common cloud defaults.
            let settings = ImageSettings {
                architecture: "x86_64".into(),
                ena: true,
                os_type: "linux".into(),
                ..ImageSettings::default()
            };
            (opened, format!("file:{name}"), tags, settings)
        }
        Endpoint::Cloud(c) => {
            if c.image.is_empty() {
                return Err(TransferError::Usage(format!(
                    "{c}: a source names its image ({})",
                    match c.cloud.as_str() {
                        "aws" => "aws:CONTEXT/REGION/ami-…",
                        "openstack" => "openstack:CONTEXT/REGION/IMAGE-ID",
                        _ => "azure:CONTEXT/LOCATION/gallery/definition[/version]",
                    }
                )));
            }
            let (provider, t) = transfer_of(providers, c)?;
            let img = rt.block_on(t.describe(&c.place, &c.image))?;
            let (name, tags, settings) = (img.name.clone(), img.tags.clone(), img.settings.clone());
            let opened = Opened::Cloud {
                provider: provider.clone(),
                cref: c.clone(),
                image: img,
            };
            (opened, name, tags, settings)
        }
    };
    let virtual_size = match &source {
        Opened::Local { reader, .. } => reader.info().virtual_size,
        Opened::Cloud { image, .. } => image.size,
    };
    let tags = provenance::carried(&source_tags, &req.provenance);
    let mut plan = Vec::new();
    if let Opened::Cloud { provider, cref, .. } = &source {
        if let Some(what) = provider.transfer().and_then(|t| t.reading_creates()) {
            plan.push(format!("read {cref} through {what}"));
        }
    }
    let dest = match &req.dest {
        Endpoint::Local(path) => {
            if !req.force {
                convert::refuse_existing(path)?;
            }
            let opts = convert::Options {
                to: req.to,
                ..convert::Options::default()
            };
            let format = convert::output_format(path, &opts)?;
            plan.push(format!(
                "write {} ({format}) and {}",
                path.display(),
                provenance::sidecar(path).display()
            ));
            Destination::Local {
                path: path.clone(),
                format,
            }
        }
        Endpoint::Cloud(c) => {
            let (provider, t) = transfer_of(providers, c)?;
            let upload = upload_request(req, c, virtual_size, &tags, &source_settings)?;
            plan.extend(rt.block_on(t.plan_upload(&upload))?);
            plan.push(format!(
                "tag it {}",
                tags.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .chain([format!("{}={source_name} sha256:…", provenance::SOURCE)])
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            Destination::Cloud {
                provider: provider.clone(),
                upload,
                cref: c.clone(),
            }
        }
    };
    Ok(Transfer {
        source,
        dest,
        source_name,
        virtual_size,
        tags,
        plan,
        concurrency: req.concurrency.max(1),
    })
}

/// The upload request for destination `c`: its name, target and settings.
fn upload_request(
    req: &Request,
    c: &CloudRef,
    size: u64,
    tags: &BTreeMap<String, String>,
    from: &ImageSettings,
) -> Result<UploadRequest, TransferError> {
    let family = tags.get(provenance::FAMILY);
    let version = tags.get(provenance::VERSION);
    let mut target = c.image.clone();
    if c.cloud == "azure" {
        let (gallery, definition, v) = c.gallery_parts();
        if let (Some(g), Some(d), None) = (gallery, definition, v) {
            let v = version.ok_or_else(|| {
                TransferError::Usage(format!(
                    "{c}: a gallery image version needs a version: pass --version (the source has no drydock:version tag)"
                ))
            })?;
            target = format!("{g}/{d}/{v}");
        }
    } else if !c.image.is_empty() {
        return Err(TransferError::Usage(format!(
            "{c}: a destination names a region, not an image (the image is new)"
        )));
    }
    let name = match (&req.name, family, version) {
        (Some(n), _, _) => n.clone(),
        (None, Some(f), Some(v)) => format!("{f}-{v}"),
        _ if c.cloud == "azure" && target.split('/').count() == 3 => {
            target.rsplit('/').next().unwrap_or_default().to_string()
        }
        _ => {
            return Err(TransferError::Usage(format!(
                "{c}: the new image needs a name: pass --name, or --family and --version"
            )))
        }
    };
    Ok(UploadRequest {
        place: c.place.clone(),
        name,
        target,
        size,
        settings: settings(from, &req.settings),
        tags: tags.clone(),
        footer: Vec::new(),
        token: token(),
    })
}

impl Transfer {
    /// The gate's admissions the transfer needs: a temporary read disk in the source's
    /// context (no confirmation; read-only contexts refuse), and, given the confirmation,
    /// the change in a cloud destination's context. Without one only the source's is asked
    /// (a dry run, a download).
    pub fn admit(
        &self,
        gate: &Gate,
        confirmation: Option<&Confirmation>,
    ) -> Result<Vec<Admitted>, GateError> {
        let mut admitted = Vec::new();
        if let Opened::Cloud { provider, cref, .. } = &self.source {
            if provider
                .transfer()
                .and_then(|t| t.reading_creates())
                .is_some()
            {
                let what = format!("a temporary disk to read {cref}");
                admitted.push(gate.admit_temporary(&cref.context, &what)?);
            }
        }
        if let (Destination::Cloud { cref, .. }, Some(c)) = (&self.dest, confirmation) {
            let what = format!("transfer {} → {cref}", self.source_name);
            admitted.push(gate.admit(&cref.context, &what, c)?);
        }
        Ok(admitted)
    }
}
