//! Planted bugs for the loom mutant checks (`scripts/loom-mutants.sh`).
//!
//! Each planted bug is a small change to a concurrency protocol that a loom
//! model in `tests/loom.rs` must catch. The code that plants it asks
//! [`planted`] whether its bug is switched on. Only a loom build
//! (`--cfg taskflow_loom`) can switch one on, at run time, through the
//! environment variable `TASKFLOW_MUTANT` naming the bug, so that one loom
//! build serves the clean models and every mutant, and a mutant check costs
//! one model run instead of a rebuild of the crate and its dependencies.
//! Every other build sees a constant `false`, and the compiler removes the
//! planted code.

/// The planted bugs, by name: what `TASKFLOW_MUTANT` may name. The script
/// lists what each one does and which model catches it.
#[cfg(taskflow_loom)]
const KNOWN: &[&str] = &[
    "lost_wakeup",
    "relaxed_pending",
    "stale_empty_check",
    "keep_stolen_jobs",
    "waker_outside_lock",
    "cancel_unlocked",
    "orphan_after_finish",
    "join_unlocked_check",
    "join_never_signalled",
    "subtree_relaxed_end",
    "subtree_body_uncounted",
    "help_waits_before_flush",
    "waits_not_nudged",
    "blocked_uncounted",
    "join_unregistered",
    "park_unchecked",
    "stopped_keeps_wakeup",
    "woken_to_injector",
    "buried_inbox_ignored",
    "sweep_relaxed_progress",
    "parked_not_resumed",
    "own_child_unannounced",
    "awaited_unmarked",
    "inbox_close_unchecked",
    "sweep_leads_unchecked",
    "sweep_leads_past_its_prefix",
];

/// Whether the planted bug `name` is switched on (see the module docs).
///
/// # Panics
///
/// If `name` is not one of the known bugs, or `TASKFLOW_MUTANT` names an
/// unknown one: a misspelt bug must not pass for a caught one.
#[cfg(taskflow_loom)]
pub(crate) fn planted(name: &str) -> bool {
    // Not a loom primitive: the choice is made once per process, outside
    // every model, and no modelled thread writes it.
    static CHOSEN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let chosen = CHOSEN.get_or_init(|| {
        let chosen = std::env::var("TASKFLOW_MUTANT")
            .ok()
            .filter(|n| !n.is_empty());
        if let Some(chosen) = &chosen {
            assert!(
                KNOWN.contains(&chosen.as_str()),
                "TASKFLOW_MUTANT={chosen} names no planted bug; known: {KNOWN:?}"
            );
        }
        chosen
    });
    assert!(KNOWN.contains(&name), "`{name}` is not a known planted bug");
    chosen.as_deref() == Some(name)
}

/// Whether the planted bug `name` is switched on: never, outside loom builds.
#[cfg(not(taskflow_loom))]
#[inline(always)]
pub(crate) const fn planted(_name: &str) -> bool {
    false
}
