//! `drydock demo`: generate a synthetic fleet snapshot of any size, or forget the demo
//! clouds' saved changes.

use super::args::DemoCommand;
use super::exit::Exit;
use super::Ctx;
use anyhow::{bail, Result};
use drydock::model::{snapshot, Inventory};
use drydock_sim::GenerateSpec;

pub fn run(ctx: &Ctx, cmd: &DemoCommand) -> Result<Exit> {
    match cmd {
        DemoCommand::Generate {
            vms,
            images,
            seed,
            output,
        } => {
            if *images == 0 {
                bail!("--images must be at least 1 (VMs need images to be launched from)");
            }
            let spec = GenerateSpec {
                vms: *vms,
                images: *images,
                seed: *seed,
            };
            let inv = drydock_sim::generate(spec, ctx.now);
            let inv = Inventory::from_scan(ctx.now, vec![format!("generated (seed {seed})")], inv);
            snapshot::write(output, &inv)?;
            eprintln!(
                "wrote {} VMs and {} images to {}",
                inv.vms.len(),
                inv.images.len(),
                output.display()
            );
            Ok(Exit::Ok)
        }
        DemoCommand::Reset => {
            let store = super::store::store(ctx)?;
            let kind = drydock::contexts::DEMO_STATE;
            let mut forgot = 0;
            for d in store.documents(kind).map_err(|e| anyhow::anyhow!(e))? {
                if store
                    .delete_document(kind, &d.key)
                    .map_err(|e| anyhow::anyhow!(e))?
                {
                    forgot += 1;
                }
            }
            if forgot == 0 {
                eprintln!("the demo clouds are unchanged");
            } else {
                eprintln!("forgot the demo clouds' changes ({})", store.describe());
            }
            Ok(Exit::Ok)
        }
    }
}
