//! Leases on running plans: running a plan holds a row with a heartbeat; a second runner
//! is refused, naming the holder; a holder silent for the TTL (or a process of this host
//! that no longer exists) can be taken over. A process that lost its lease (taken over,
//! or unable to beat for a TTL) is fenced: its journal writes for that plan fail, and the
//! executor stops before its next cloud call.

use super::error::PlanError;
use super::journal::Journal;
use chrono::Utc;
use drydock_store::{Holder, LeaseOutcome, Store};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type R<T> = super::error::Result<T>;

/// The default lease TTL (`[store] lease_ttl`).
pub const LEASE_TTL: Duration = Duration::from_secs(60);

/// What this process knows of a lease it holds.
pub struct Fence {
    plan: String,
    holder: String,
    lost: AtomicBool,
    /// Why it was lost (who took it).
    why: Mutex<String>,
    last_beat: Mutex<Instant>,
    ttl: Duration,
}

impl Fence {
    /// `Err` once the lease is gone, or when it could not be renewed for a TTL.
    pub fn check(&self) -> R<()> {
        let stale = self
            .last_beat
            .lock()
            .map(|t| t.elapsed() >= self.ttl)
            .unwrap_or(true);
        if stale && !self.lost.swap(true, Ordering::SeqCst) {
            *self.why.lock().unwrap_or_else(|e| e.into_inner()) = format!(
                "could not renew the lease for {}s (is the store reachable?)",
                self.ttl.as_secs()
            );
        }
        if self.lost.load(Ordering::SeqCst) {
            let why = self.why.lock().unwrap_or_else(|e| e.into_inner()).clone();
            return Err(PlanError::Lease(format!(
                "stopped: this process ({}) no longer holds the lease on plan {}: {why}",
                self.holder, self.plan
            )));
        }
        Ok(())
    }
}

/// Holds a plan's lease while it lives: a thread renews it; dropping releases it.
pub struct LeaseGuard {
    fence: Arc<Fence>,
    stop: Arc<AtomicBool>,
    store: Arc<dyn Store>,
    fences: Arc<Mutex<HashMap<String, Arc<Fence>>>>,
    beat: Option<std::thread::JoinHandle<()>>,
}

impl LeaseGuard {
    pub fn fence(&self) -> &Arc<Fence> {
        &self.fence
    }
}

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.beat.take() {
            t.thread().unpark();
            let _ = t.join();
        }
        if !self.fence.lost.load(Ordering::SeqCst) {
            if let Err(e) = self
                .store
                .release_lease(&self.fence.plan, &self.fence.holder)
            {
                tracing::warn!("cannot release the lease on {}: {e}", self.fence.plan);
            }
        }
        self.fences
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.fence.plan);
    }
}

/// How long ago, for people: `12s`, `3m 4s`, `2h 5m`.
pub fn ago(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

impl Journal {
    /// Refuses a write to `plan` once this process lost its lease on it.
    pub(crate) fn fenced(&self, plan: &str) -> R<()> {
        let fence = self
            .fences
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(plan)
            .cloned();
        fence.map_or(Ok(()), |f| f.check())
    }

    /// The holder id of this process for its leases.
    fn holder_id(&self) -> String {
        let host = crate::config::operator::host();
        let nonce = Utc::now().timestamp_subsec_nanos() ^ std::process::id().rotate_left(16);
        format!(
            "pid {} on {host} #{:04x}",
            std::process::id(),
            nonce & 0xffff
        )
    }

    /// Takes the lease on plan `id` (from a holder that stopped beating, with `take_over`)
    /// and keeps it renewed until the guard drops. Refuses, naming the holder and its last
    /// heartbeat, while another holds it.
    pub fn take_lease(&self, id: &str, take_over: bool) -> R<LeaseGuard> {
        let mut holder = Holder {
            id: self.holder_id(),
            operator: self.operator.clone(),
            take_over,
            replaces: None,
        };
        let ttl = self.lease_ttl;
        let now = Utc::now();
        // A holder that was a process of this host which no longer exists is dead now,
        // not only after the TTL: `--take-over` takes its run at once.
        if take_over {
            if let Some(l) = self.store.lease(id)? {
                if dead_here(&l.holder) {
                    holder.replaces = Some(l.holder);
                }
            }
        }
        match self.store.acquire_lease(id, &holder, now, ttl)? {
            LeaseOutcome::Held(l) => {
                let since = ago(now - l.beat);
                let next = if l.expires < now || dead_here(&l.holder) {
                    format!(
                        "it has stopped beating (the lease TTL is {}s): `--take-over` takes the run over",
                        ttl.as_secs()
                    )
                } else {
                    format!("`drydock plan pause {id}` asks it to stop")
                };
                return Err(PlanError::Lease(format!(
                    "plan {id} is being run by {} ({}), last heartbeat {since} ago; {next}",
                    l.operator, l.holder
                )));
            }
            LeaseOutcome::Acquired { taken_from } => {
                if let Some(old) = taken_from {
                    let e = super::Event::TakenOver {
                        plan: id.to_string(),
                        from: format!("{} ({})", old.operator, old.holder),
                        operator: self.operator.clone(),
                    };
                    tracing::warn!("{}", e.describe());
                    self.event(id, &e)?;
                }
            }
        }
        let fence = Arc::new(Fence {
            plan: id.to_string(),
            holder: holder.id.clone(),
            lost: AtomicBool::new(false),
            why: Mutex::new(String::new()),
            last_beat: Mutex::new(Instant::now()),
            ttl,
        });
        self.fences
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string(), Arc::clone(&fence));
        let stop = Arc::new(AtomicBool::new(false));
        let beat = {
            let (store, fence, stop) = (
                Arc::clone(&self.store),
                Arc::clone(&fence),
                Arc::clone(&stop),
            );
            let every = (ttl / 4).clamp(Duration::from_millis(50), Duration::from_secs(10));
            std::thread::Builder::new()
                .name("lease-heartbeat".into())
                .spawn(move || heartbeat(&*store, &fence, &stop, every))
                .map_err(|e| PlanError::Journal(format!("cannot start the heartbeat: {e}")))?
        };
        Ok(LeaseGuard {
            fence,
            stop,
            store: Arc::clone(&self.store),
            fences: Arc::clone(&self.fences),
            beat: Some(beat),
        })
    }
}

/// Whether `holder` (as [`Journal::holder_id`] writes it) was a process of this host that
/// no longer exists.
fn dead_here(holder: &str) -> bool {
    let mut words = holder.split_whitespace();
    let (Some("pid"), Some(pid), Some("on"), Some(host)) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    host == crate::config::operator::host() && !Path::new(&format!("/proc/{pid}")).exists()
}

/// Renews `fence`'s lease every `every` until `stop`; marks it lost when another holder
/// has it.
fn heartbeat(store: &dyn Store, fence: &Fence, stop: &AtomicBool, every: Duration) {
    while !stop.load(Ordering::SeqCst) {
        std::thread::park_timeout(every);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match store.heartbeat(&fence.plan, &fence.holder, Utc::now(), fence.ttl) {
            Ok(true) => {
                *fence.last_beat.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            }
            Ok(false) => {
                let who = store
                    .lease(&fence.plan)
                    .ok()
                    .flatten()
                    .map_or("it was released".to_string(), |l| {
                        format!("{} ({}) took it over", l.operator, l.holder)
                    });
                *fence.why.lock().unwrap_or_else(|e| e.into_inner()) = who;
                fence.lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(e) => tracing::warn!("lease heartbeat for {}: {e}", fence.plan),
        }
    }
}
