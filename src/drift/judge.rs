//! The rules that turn one image's facts into a verdict and a reason, most severe first:
//! revoked (itself or an ancestor) → eol → image lists (expired → eol, unlisted →
//! outdated) → unmanaged → outdated → behind → current.

use super::catalog::Catalog;
use super::lineage::Lineage;
use super::policy::{Classification, Limits};
use super::provenance::Provenance;
use super::{usable, ImageAssessment, Verdict};
use crate::model::{Image, ImageState, Inventory};
use chrono::{DateTime, Utc};

pub(super) struct Context<'a> {
    pub inv: &'a Inventory,
    pub provs: &'a [Provenance],
    pub catalog: &'a Catalog,
    pub lists: &'a [super::image_list::ImageList],
    pub now: DateTime<Utc>,
}

/// The version an image is ordered by: its own, else its creation time.
pub(super) fn version_key(version: Option<&str>, created: DateTime<Utc>) -> String {
    version.map_or_else(
        || created.format("%Y%m%d%H%M%S").to_string(),
        str::to_string,
    )
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn plural(n: usize, word: &str) -> String {
    crate::words::count(n as u64, word)
}

/// Why an image may not be launched any more, if it may not.
fn revocation(img: &Image, prov: &Provenance, now: DateTime<Utc>) -> Option<String> {
    if let Some(why) = &prov.revoked {
        return Some(format!("revoked: {why}"));
    }
    match img.state {
        ImageState::Deregistered => return Some("deregistered".into()),
        ImageState::Disabled => return Some("disabled".into()),
        ImageState::Deprecated => {
            return Some(match img.deprecation_time {
                Some(t) => format!("deprecated since {}", date(t)),
                None => "deprecated".into(),
            })
        }
        ImageState::Available => {}
    }
    img.deprecation_time
        .filter(|&t| t <= now)
        .map(|t| format!("deprecated since {}", date(t)))
}

/// When the image reached end of life, if it has.
fn end_of_life(img: &Image, prov: &Provenance, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    [img.end_of_life, prov.eol]
        .into_iter()
        .flatten()
        .filter(|&t| t <= now)
        .min()
}

fn ago(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let days = (now - t).num_days();
    match days {
        0 => "today".into(),
        1 => "1 day ago".into(),
        d => format!("{d} days ago"),
    }
}

pub(super) fn image(
    ctx: &Context<'_>,
    i: usize,
    class: &Classification,
    lineage: &Lineage,
    kind: super::class::Classed,
) -> ImageAssessment {
    let img = &ctx.inv.images[i];
    let prov = &ctx.provs[i];
    let now = ctx.now;
    let mut issues = prov.issues.clone();
    issues.extend(lineage.issues.iter().cloned());
    if class.family.is_some() && class.version.is_none() {
        issues.push("no version in tags or name; ordered by creation time".into());
    }
    // A build's age is its first artifact's: copies in other clouds share its verdict.
    let born = match (&class.family, &class.version) {
        (Some(f), Some(v)) => ctx
            .catalog
            .first_created(f, v)
            .map_or(img.created, |t| t.min(img.created)),
        _ => img.created,
    };
    let age_days = (now - born).num_days();
    let version = class.version.clone();
    let (latest, newer) = match &class.family {
        Some(fam) => {
            let key = version_key(version.as_deref(), img.created);
            let newer = ctx.catalog.newer(fam, &key);
            (ctx.catalog.latest(fam).map(|e| e.version.clone()), newer)
        }
        None => (None, &[][..]),
    };
    let (verdict, reason) = judge(ctx, i, class, lineage, age_days, newer, latest.as_deref());
    let reason = if issues.is_empty() {
        reason
    } else {
        format!("{reason}; {}", issues.join("; "))
    };
    ImageAssessment {
        family: class.family.clone(),
        version,
        provenance: prov.clone(),
        verdict,
        reason,
        age_days,
        versions_behind: newer.len(),
        latest,
        lineage: lineage.ancestors.clone(),
        issues,
        vm_count: 0,
        class: kind,
    }
}

fn judge(
    ctx: &Context<'_>,
    i: usize,
    class: &Classification,
    lineage: &Lineage,
    age_days: i64,
    newer: &[super::catalog::CatalogEntry],
    latest: Option<&str>,
) -> (Verdict, String) {
    let (img, prov, now) = (&ctx.inv.images[i], &ctx.provs[i], ctx.now);
    if let Some(why) = revocation(img, prov, now) {
        return (Verdict::Revoked, format!("image {why}"));
    }
    for &a in &lineage.ancestors {
        let anc = &ctx.inv.images[a];
        if !usable(anc, &ctx.provs[a], now) {
            let why = revocation(anc, &ctx.provs[a], now).unwrap_or_default();
            return (
                Verdict::Revoked,
                format!("ancestor {} ({}) is {why}", anc.name, anc.id),
            );
        }
    }
    let limits: Limits = class.limits;
    if limits.enforce_eol {
        if let Some(t) = end_of_life(img, prov, now) {
            return (
                Verdict::Eol,
                format!("end of life since {} ({})", date(t), ago(now, t)),
            );
        }
        for &a in &lineage.ancestors {
            let anc = &ctx.inv.images[a];
            if let Some(t) = end_of_life(anc, &ctx.provs[a], now) {
                return (
                    Verdict::Eol,
                    format!(
                        "ancestor {} reached end of life on {} ({})",
                        anc.name,
                        date(t),
                        ago(now, t)
                    ),
                );
            }
        }
    }
    // Subscribed image lists: an expired list's images are eol, images it no longer
    // lists are outdated, and a listed image is vouched for even without a family.
    let listed = match super::image_list::judge(ctx.lists, img, now) {
        Err((true, why)) => return (Verdict::Eol, why),
        Err((false, why)) => return (Verdict::Outdated, why),
        Ok(v) => v,
    };
    let Some(family) = &class.family else {
        if let Some(why) = listed {
            return (Verdict::Current, why);
        }
        let mut reason = format!(
            "no policy family covers image {:?} (no drydock:family tag, no match_name rule)",
            img.name
        );
        // The provider found a newer image from the same vendor and name pattern.
        if let Some(newer) = img.newer_base.as_deref() {
            let name = ctx
                .inv
                .images
                .iter()
                .find(|i| i.id == newer)
                .map_or(newer, |i| i.name.as_str());
            reason.push_str(&format!("; newer base available: {name}"));
        }
        return (Verdict::Unmanaged, reason);
    };
    let latest = latest.unwrap_or("?");
    let mut outdated = Vec::new();
    let mut behind = None;
    if !newer.is_empty() {
        let lag = format!(
            "{} behind {family} {latest}",
            plural(newer.len(), "version")
        );
        let max = limits.max_versions_behind as usize;
        if newer.len() > max {
            // The lag limit was crossed when the (max+1)-th newer version appeared.
            let crossed = newer[max].created;
            let over = (now - crossed).num_days();
            if over > i64::from(limits.grace_days) {
                outdated.push(format!(
                    "{lag} (max {max}) for {} > grace {}",
                    plural(over as usize, "day"),
                    limits.grace_days
                ));
            } else {
                let left = i64::from(limits.grace_days) - over;
                behind = Some(format!(
                    "{lag} (max {max}); {} of grace left",
                    plural(left as usize, "day")
                ));
            }
        } else {
            behind = Some(lag);
        }
    }
    if age_days > i64::from(limits.max_age_days) {
        outdated.push(format!(
            "image {age_days} days old > {}",
            limits.max_age_days
        ));
        // The clause that decided the verdict leads; the lag follows as context.
        if let Some(b) = behind.take() {
            outdated.push(b);
        }
    }
    if !outdated.is_empty() {
        return (Verdict::Outdated, outdated.join("; "));
    }
    if let Some(b) = behind {
        return (Verdict::Behind, b);
    }
    (
        Verdict::Current,
        format!(
            "latest {family} {latest}, {} old",
            plural(age_days.max(0) as usize, "day")
        ),
    )
}
