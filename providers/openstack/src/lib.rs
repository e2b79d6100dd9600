//! OpenStack behind drydock's provider API. So far: where a site's connection comes from
//! ([`clouds`]: `clouds.yaml` and `secure.yaml` as the OpenStack clients find and merge them).

pub mod clouds;
