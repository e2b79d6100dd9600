//! The two sides of a transfer as the command line names them: a local file,
//! `aws:CONTEXT/REGION[/ami-…]`, `azure:CONTEXT/LOCATION[/gallery/definition[/version]]` or
//! `openstack:CONTEXT/REGION[/IMAGE-ID]`.

use std::fmt;
use std::path::PathBuf;

/// One side of a transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Local(PathBuf),
    Cloud(CloudRef),
}

/// An image (or a place for one) in a cloud context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudRef {
    /// `aws` or `azure`.
    pub cloud: String,
    pub context: String,
    /// Region or location.
    pub place: String,
    /// AMI id; Azure `gallery/definition[/version]` or a managed image name. Empty: none.
    pub image: String,
}

impl CloudRef {
    /// Azure's gallery, definition and version, where the image names them.
    pub fn gallery_parts(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        let mut it = self.image.split('/').filter(|s| !s.is_empty());
        let g = it.next();
        let d = it.next();
        (g, d, it.next())
    }
}

impl fmt::Display for CloudRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.cloud, self.context, self.place)?;
        if !self.image.is_empty() {
            write!(f, "/{}", self.image)?;
        }
        Ok(())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Local(p) => write!(f, "{}", p.display()),
            Endpoint::Cloud(c) => c.fmt(f),
        }
    }
}

/// A transfer side that cannot be read, and how to write one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{side}: {why}; write {form}")]
pub struct EndpointError {
    pub side: String,
    pub why: String,
    pub form: &'static str,
}

impl Endpoint {
    /// Parse a side. Anything not starting with `aws:`, `azure:` or `openstack:` is a local path (write
    /// `./aws:x` for a file of that name).
    pub fn parse(text: &str) -> Result<Endpoint, EndpointError> {
        let Some((cloud, rest)) = text.split_once(':') else {
            return Ok(Endpoint::Local(PathBuf::from(text)));
        };
        if cloud != "aws" && cloud != "azure" && cloud != "openstack" {
            return Ok(Endpoint::Local(PathBuf::from(text)));
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let usage = |why: &str| EndpointError {
            side: text.to_string(),
            why: why.to_string(),
            form: match cloud {
                "aws" => "aws:CONTEXT/REGION[/ami-…]",
                "openstack" => "openstack:CONTEXT/REGION[/IMAGE-ID]",
                _ => "azure:CONTEXT/LOCATION[/gallery/definition[/version]]",
            },
        };
        if parts.len() < 2 || parts[0].is_empty() || parts[1].is_empty() {
            return Err(usage("a context and a region or location are needed"));
        }
        let image = parts[2..].join("/");
        if cloud == "aws" {
            if parts.len() > 3 {
                return Err(usage("too many parts"));
            }
            if !image.is_empty() && !image.starts_with("ami-") {
                return Err(usage(&format!("{image} is not an AMI id")));
            }
        } else if cloud == "openstack" {
            if parts.len() > 3 {
                return Err(usage("too many parts"));
            }
        } else if parts.len() > 5 || parts[2..].iter().any(|p| p.is_empty()) {
            return Err(usage("too many or empty parts"));
        }
        Ok(Endpoint::Cloud(CloudRef {
            cloud: cloud.to_string(),
            context: parts[0].to_string(),
            place: parts[1].to_string(),
            image,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_parse() {
        assert_eq!(
            Endpoint::parse("web.qcow2").unwrap(),
            Endpoint::Local("web.qcow2".into())
        );
        let Endpoint::Cloud(a) = Endpoint::parse("aws:prod/eu-west-1/ami-0abc").unwrap() else {
            panic!()
        };
        assert_eq!(
            (a.context.as_str(), a.place.as_str()),
            ("prod", "eu-west-1")
        );
        assert_eq!(a.image, "ami-0abc");
        assert_eq!(a.to_string(), "aws:prod/eu-west-1/ami-0abc");
        let Endpoint::Cloud(z) =
            Endpoint::parse("azure:prod-az/westeurope/golden/web-base").unwrap()
        else {
            panic!()
        };
        assert_eq!(z.gallery_parts(), (Some("golden"), Some("web-base"), None));
        assert!(Endpoint::parse("aws:prod").is_err());
        assert!(Endpoint::parse("aws:prod/eu-west-1/snap-1").is_err());
        assert!(Endpoint::parse("azure:p/l/g//v").is_err());
        let Endpoint::Cloud(o) = Endpoint::parse("openstack:site/RegionOne/1111-22").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (o.cloud.as_str(), o.image.as_str()),
            ("openstack", "1111-22")
        );
        assert!(Endpoint::parse("openstack:site/RegionOne/a/b").is_err());
        assert_eq!(
            Endpoint::parse("C:/disk.raw").unwrap(),
            Endpoint::Local("C:/disk.raw".into())
        );
    }
}
