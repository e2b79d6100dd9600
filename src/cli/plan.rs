//! `drydock plan …`: the command-line surface of migration plans — building the plan file,
//! showing it, and running, pausing, aborting and rolling it back through the executor,
//! with confirmation (typed for production contexts) and approvals between waves.

use super::args::{Cli, PlanCommand, PlanNewArgs, PlanRunArgs};
use super::confirm::{ask, confirm};
use super::exit::Exit;
use super::inventory::load_inventory;
use super::out;
use super::{data_dir, runtime, Ctx};
use anyhow::{anyhow, bail, Context, Result};
use drydock::drift;
use drydock::gate::Needed;
use drydock::plan::{
    self, show, Event, Executor, ExecutorOptions, Journal, Plan, PlanRequest, PlanStatus,
};
use drydock_api::Provider;
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub fn run(ctx: &Ctx, cli: &Cli, cmd: &PlanCommand) -> Result<Exit> {
    let _ = cli;
    match cmd {
        PlanCommand::New(args) => new(ctx, args),
        PlanCommand::Show { plan } => show_plan(ctx, plan.as_deref()),
        PlanCommand::Run(args) | PlanCommand::Resume(args) => execute(ctx, args),
        PlanCommand::Pause { plan } => control(ctx, plan, "pause"),
        PlanCommand::Abort {
            plan,
            yes_production,
        } => abort(ctx, plan, *yes_production),
        PlanCommand::Rollback(args) => rollback(ctx, args),
        PlanCommand::List => {
            let j = journal(ctx)?;
            out!("{}", show::list(&j.list().map_err(|e| anyhow!(e))?));
            Ok(Exit::Ok)
        }
    }
}

use super::store::journal;

fn parse<T: std::str::FromStr<Err = plan::PlanError>>(flag: &str, v: &str) -> Result<T> {
    v.parse().map_err(|e| anyhow!("--{flag}: {e}"))
}

fn new(ctx: &Ctx, args: &PlanNewArgs) -> Result<Exit> {
    let mut req = PlanRequest::new(&args.family);
    req.to = args.to.clone();
    req.waves = plan::parse_waves(&args.waves).map_err(|e| anyhow!(e))?;
    let s = &mut req.settings;
    s.max_unavailable = parse("max-unavailable", &args.max_unavailable)?;
    s.concurrency = args.concurrency.max(1);
    s.health_cmd = args.health_cmd.clone();
    s.health_timeout = parse("health-timeout", &args.health_timeout)?;
    s.wave_failure_limit = args.wave_failure_limit;
    s.grace = parse("grace", &args.grace)?;
    s.undo_window = parse("undo-window", &args.undo_window)?;
    req.builder_vm = args.builder_vm.clone();
    req.builder_cmd = args.builder_cmd.clone();
    req.from = args.from.clone();
    req.gallery = args.gallery.clone();
    req.lint = args.lint;
    req.builder_provider = args.builder_context.clone();
    req.builder_region = args.builder_region.clone();
    req.parent = args.parent.clone();
    refuse_readonly(ctx, "plan new")?;
    let j = journal(ctx)?;
    if args.exclude_claimed {
        req.claimed = j.claimed().map_err(|e| anyhow!(e))?;
    }
    let inv = load_inventory(ctx, &args.source, false)?;
    let assessment = drift::evaluate(&inv, &ctx.config.policy, ctx.now);
    let plan = plan::build(&inv, &assessment, &req, chrono::Utc::now()).map_err(|e| anyhow!(e))?;
    // Registered with its claims first (under a fresh id): a plan that overlaps another
    // leaves no file behind.
    let plans_dir = data_dir(ctx)?.plans();
    let output = args.output.clone();
    let path_of = |id: &str| -> std::path::PathBuf {
        let p = output
            .clone()
            .unwrap_or_else(|| plans_dir.join(format!("{id}.toml")));
        absolute(&p)
    };
    let (plan, path) = j.register_new(&plan, &path_of).map_err(|e| anyhow!(e))?;
    if let Err(e) = plan.write(&path) {
        let _ = j.halt(&plan.id, true);
        return Err(anyhow!(e));
    }
    out!("{}", show::render(&plan, None, &[]));
    eprintln!(
        "\nwrote {}\nreview or edit it, then `drydock plan run {}` (a dry run) and `drydock plan run {} --execute`",
        path.display(),
        plan.id,
        plan.id
    );
    Ok(Exit::Ok)
}

fn show_plan(ctx: &Ctx, which: Option<&str>) -> Result<Exit> {
    let j = journal(ctx)?;
    let (plan, row) = match which {
        // A path (anything that exists, or names a directory) is read as a plan file, which
        // refuses what is not a regular file; anything else is a plan id.
        Some(w) if Path::new(w).exists() || w.contains('/') => {
            let plan = Plan::read(Path::new(w)).map_err(|e| anyhow!(e))?;
            let row = j.status(&plan.id).ok();
            (plan, row)
        }
        _ => {
            let id = pick(&j, which)?;
            (j.plan(&id).map_err(|e| anyhow!(e))?, j.status(&id).ok())
        }
    };
    let steps = j.steps(&plan.id).unwrap_or_default();
    out!("{}", show::render(&plan, row.as_ref(), &steps));
    Ok(Exit::Ok)
}

/// The named plan, or the only unfinished one.
fn pick(j: &Journal, which: Option<&str>) -> Result<String> {
    if let Some(id) = which {
        j.status(id).map_err(|e| anyhow!(e))?;
        return Ok(id.to_string());
    }
    let open: Vec<_> = j
        .list()
        .map_err(|e| anyhow!(e))?
        .into_iter()
        .filter(|r| !r.status.is_final())
        .collect();
    match open.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => bail!("no unfinished plan; make one with `drydock plan new --family F`"),
        many => bail!(
            "several unfinished plans; name one: {}",
            many.iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `p` made absolute (its directory created), so the journal names the file wherever the
/// next command runs.
fn absolute(p: &Path) -> std::path::PathBuf {
    match p.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir)
            .ok()
            .and_then(|_| dir.canonicalize().ok())
            .map_or(p.to_path_buf(), |d| {
                d.join(p.file_name().unwrap_or_default())
            }),
        None => std::env::current_dir().map_or(p.to_path_buf(), |d| d.join(p)),
    }
}

/// Read-only mode changes no journal either.
fn refuse_readonly(ctx: &Ctx, what: &str) -> Result<()> {
    if ctx.gate.readonly() {
        bail!("read-only mode: `drydock {what}` changes the plan journal and is refused (start without --readonly)");
    }
    Ok(())
}

/// `plan abort`: stops a plan for good, confirmed like a change (typed on production).
fn abort(ctx: &Ctx, which: &str, yes_production: bool) -> Result<Exit> {
    refuse_readonly(ctx, "plan abort")?;
    let j = journal(ctx)?;
    let plan = j.plan(which).map_err(|e| anyhow!(e))?;
    let production: Vec<&str> = plan
        .contexts()
        .into_iter()
        .filter(|c| ctx.gate.is_production(c))
        .collect();
    if let Some(name) = production.first() {
        confirm(
            Needed::Typed(name.to_string()),
            name,
            &format!("plan {which}"),
            &format!(
                "abort plan {which} for good ({})?",
                show::blast_radius(&plan)
            ),
            false,
            yes_production,
        )?;
    }
    let said = j.halt(which, true).map_err(|e| anyhow!(e))?;
    eprintln!("{said}");
    Ok(Exit::Ok)
}

fn control(ctx: &Ctx, which: &str, what: &str) -> Result<Exit> {
    refuse_readonly(ctx, &format!("plan {what}"))?;
    let said = journal(ctx)?
        .halt(which, what == "abort")
        .map_err(|e| anyhow!(e))?;
    eprintln!("{said}");
    Ok(Exit::Ok)
}

/// The executor for plan `id` over every provider this config knows (demo and cloud).
fn executor(
    ctx: &Ctx,
    args: &PlanRunArgs,
    rt: &tokio::runtime::Runtime,
    id: &str,
) -> Result<Arc<Executor>> {
    let j = journal(ctx)?;
    let row = j.status(id).map_err(|e| anyhow!(e))?;
    if args.execute {
        refuse_readonly(ctx, "plan run --execute")?;
    }
    if row.status == PlanStatus::New && Path::new(&row.path).is_file() && !ctx.gate.readonly() {
        // Not started yet: the file (perhaps edited) is the plan.
        let plan = Plan::read(Path::new(&row.path)).map_err(|e| anyhow!(e))?;
        if plan.id != id {
            bail!("{} now holds plan {}, not {id}", row.path, plan.id);
        }
        j.register(&plan, Path::new(&row.path))
            .map_err(|e| anyhow!(e))?;
    }
    let plan = j.plan(id).map_err(|e| anyhow!(e))?;
    let needed = plan.contexts();
    // A plan made elsewhere for contexts this config lacks: said before anything is asked.
    if let Some(missing) = needed.iter().find(|c| !ctx.gate.knows(c)) {
        bail!(
            "{}; add it to the config or run the plan where it is configured",
            plan::PlanError::MissingContext {
                plan: id.to_string(),
                context: missing.to_string()
            }
        );
    }
    let gate = ctx.gate.with_dry_run(!args.execute);
    // The gate decides what each context needs; refusals stop here, before any call.
    let mut needs = Vec::new();
    for name in &needed {
        match gate.needs(name) {
            Needed::Refused(e) => bail!("plan {id} cannot run: {e}"),
            n => needs.push((name.to_string(), n)),
        }
    }
    let names: Vec<&str> = needed.iter().copied().collect();
    let providers: HashMap<String, Arc<dyn Provider>> = ctx
        .registry
        .providers_for(&names, rt, ctx.now)
        .map_err(|e| anyhow!("plan {id}: {e}"))?
        .into_iter()
        .map(|p| (p.name().to_string(), p))
        .collect();
    let mut confirmations = HashMap::new();
    for (name, need) in needs {
        let c = if args.execute {
            let question = format!("run plan {id} on `{name}` ({})?", show::blast_radius(&plan));
            confirm(
                need,
                &name,
                &format!("plan {id}"),
                &question,
                args.yes,
                args.yes_production,
            )?
        } else {
            // A dry run changes nothing; the gate still applies read-only rules.
            need.granted().expect("refusals handled above")
        };
        confirmations.insert(name, c);
    }
    let yes = args.yes;
    let approve: plan::executor::Approver = Arc::new(move |_, what: &str| {
        if yes {
            return true;
        }
        if !std::io::stdin().is_terminal() {
            return false;
        }
        let a = ask(&format!("approve {what}? [y/N] "));
        a.eq_ignore_ascii_case("y") || a.eq_ignore_ascii_case("yes")
    });
    let jsonl = args.events.as_deref() == Some("jsonl");
    let events: plan::executor::EventSink = Arc::new(move |e: &Event| {
        if jsonl {
            let line = serde_json::to_string(e).unwrap_or_default();
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        } else if e.is_coarse()
            || matches!(e, Event::WouldApply { .. })
            || matches!(e, Event::Step { error: Some(_), .. })
        {
            eprintln!("{}", e.describe());
        }
    });
    let opts = ExecutorOptions {
        providers,
        gate,
        confirmations,
        approve,
        events,
        poll: Duration::from_millis(500),
        retry_base: Duration::from_millis(100),
        // `--now` drives the plan's clock: grace periods and undo windows count from it.
        clock: if ctx.fixed_now {
            let now = ctx.now;
            Arc::new(move || now)
        } else {
            Arc::new(chrono::Utc::now)
        },
        data: ctx.data.clone(),
        take_over: args.take_over,
    };
    Ok(Executor::new(plan, j, opts))
}

fn execute(ctx: &Ctx, args: &PlanRunArgs) -> Result<Exit> {
    let j = journal(ctx)?;
    let id = pick(&j, args.plan.as_deref())?;
    let rt = runtime()?;
    let exec = executor(ctx, args, &rt, &id)?;
    if !args.execute {
        let row = j.status(&id).map_err(|e| anyhow!(e))?;
        let plan = j.plan(&id).map_err(|e| anyhow!(e))?;
        let steps = j.steps(&id).map_err(|e| anyhow!(e))?;
        if let Some(next) = plan::gates::standing_at(&plan, row.approved, &steps) {
            eprintln!("plan {id} stands at an approval; approving it would:");
            for line in plan::gates::describe(&plan, &steps, next) {
                eprintln!("  {line}");
            }
        }
        let (ok, tried) = rt.block_on(exec.preview()).map_err(|e| anyhow!(e))?;
        eprintln!(
            "dry run: {ok} of {} would succeed; nothing changed. Add --execute to run plan {id}.",
            drydock::words::count(tried as u64, "validated call")
        );
        return Ok(Exit::Ok);
    }
    let status = rt
        .block_on(exec.run())
        .map_err(|e| anyhow!(e))
        .context(format!("plan {id}"))?;
    let row = j.status(&id).map_err(|e| anyhow!(e))?;
    let plan_now = j.plan(&id).map_err(|e| anyhow!(e))?;
    let steps = j.steps(&id).map_err(|e| anyhow!(e))?;
    let progress: Vec<String> = show::wave_progress(&plan_now, &steps)
        .iter()
        .enumerate()
        .map(|(w, p)| format!("wave {}: {}", w + 1, p.summary()))
        .collect();
    eprintln!(
        "plan {id}: {}{}",
        status.as_str(),
        if row.message.is_empty() || row.message == status.as_str() {
            String::new()
        } else {
            format!(" — {}", row.message)
        }
    );
    for p in progress {
        eprintln!("  {p}");
    }
    // The advice fits where the command ran: without a terminal nobody can answer a
    // prompt, so approving needs --yes.
    if status == PlanStatus::AwaitingApproval && !args.yes && !std::io::stdin().is_terminal() {
        eprintln!(
            "no terminal to ask for the approval: `drydock plan run {id} --execute --yes` approves and runs the next wave"
        );
    }
    Ok(match status {
        PlanStatus::Complete | PlanStatus::AwaitingApproval | PlanStatus::Waiting => Exit::Ok,
        PlanStatus::Aborted | PlanStatus::Paused | PlanStatus::Blocked => Exit::Stopped,
        _ => Exit::Ok,
    })
}

fn rollback(ctx: &Ctx, args: &PlanRunArgs) -> Result<Exit> {
    let j = journal(ctx)?;
    let id = pick(&j, args.plan.as_deref())?;
    if !args.execute {
        let plan = j.plan(&id).map_err(|e| anyhow!(e))?;
        let steps = j.steps(&id).map_err(|e| anyhow!(e))?;
        let progress = show::wave_progress(&plan, &steps);
        let approved = j.status(&id).map_err(|e| anyhow!(e))?.approved.max(0) as usize;
        let w = approved.min(plan.waves.len().saturating_sub(1));
        let p = progress.get(w).cloned().unwrap_or_default();
        eprintln!(
            "dry run: rolling back wave {} would remove {} replacements and keep their old VMs; add --execute",
            w + 1,
            p.healthy + p.in_flight
        );
        return Ok(Exit::Ok);
    }
    refuse_readonly(ctx, "plan rollback --execute")?;
    let rt = runtime()?;
    let exec = executor(ctx, args, &rt, &id)?;
    let removed = rt.block_on(exec.rollback()).map_err(|e| anyhow!(e))?;
    eprintln!("plan {id}: rolled back, {removed} replacements removed; `drydock plan resume {id}` runs the wave again");
    Ok(Exit::Ok)
}
