//! `drydock info`: where the config, logs and data live, the image lists in force, and
//! (with `--show-config`) the effective configuration.

use super::args::InfoArgs;
use super::exit::Exit;
use super::outln;
use super::Ctx;
use anyhow::Result;
use drydock::config::paths;

pub fn run(ctx: &Ctx, args: &InfoArgs) -> Result<Exit> {
    let show = |p: Option<std::path::PathBuf>| {
        p.map_or_else(|| "(no home directory)".into(), |p| p.display().to_string())
    };
    let file = match &ctx.sources.file {
        Some(f) => format!("{} (read)", f.display()),
        None => format!(
            "{} (not present; built-in defaults in use)",
            show(paths::config_file())
        ),
    };
    outln!("config file:  {file}");
    if !ctx.sources.env.is_empty() {
        outln!("config env:   {}", ctx.sources.env.join(", "));
    }
    outln!("log file:     {}", show(paths::log_file()));
    outln!(
        "data dir:     {}",
        show(ctx.data.as_ref().map(|d| d.root().to_path_buf()))
    );
    match &ctx.store {
        Some(Ok(s)) => outln!("store:        {}", s.describe()),
        Some(Err(e)) => outln!("store:        unavailable: {e}"),
        None => {}
    }
    outln!("operator:     {}", ctx.operator);
    outln!("readonly:     {}", ctx.config.general.readonly);
    for l in &ctx.config.policy.lists {
        let expiry = match l.expires {
            Some(t) if t <= ctx.now => format!(
                "EXPIRED {} ({} days ago): its images are eol",
                t.format("%Y-%m-%d"),
                (ctx.now - t).num_days()
            ),
            Some(t) => format!(
                "expires {} (in {} days)",
                t.format("%Y-%m-%d"),
                (t - ctx.now).num_days()
            ),
            None => "no expiry date".into(),
        };
        outln!(
            "image list:   {} = {:?} version {}, {} images, {expiry}; from {}{}",
            l.name,
            l.title,
            l.version,
            l.images.len(),
            l.source,
            l.stale
                .as_ref()
                .map_or(String::new(), |p| format!(" (from the cached copy {p})"))
        );
    }
    if args.show_config {
        outln!(
            "\n# effective configuration\n{}",
            toml::to_string_pretty(&ctx.config)?
        );
    }
    Ok(Exit::Ok)
}
