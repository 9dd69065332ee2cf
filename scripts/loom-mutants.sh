#!/usr/bin/env bash
# Shows that the loom models catch the bugs they are meant to: each planted
# bug (a `planted("name")` site in src/, see src/mutant.rs) is switched on
# through TASKFLOW_MUTANT and run against the model that must catch it. One
# loom build (the one the loom step of .ci/run makes) serves every mutant, so
# no mutant rebuilds anything. The script fails if any model passes with its
# bug planted, or if the loom build fails.
#
#   mutant            planted bug                                     caught by
#   lost_wakeup       sleep.rs skips the re-check after registering  submit_while_the_worker_falls_asleep,
#                                                                     cancel_races_a_completion
#   relaxed_pending   run.rs decrements pending counts Relaxed        output_hand_off_between_workers,
#                     instead of AcqRel                               diamond_on_two_workers
#   stale_empty_check run.rs wakes a sleeper for pushed successors    a_queued_task_wakes_the_sleeping_peer
#                     only if the deque was empty before the walk
#   keep_stolen_jobs  worker.rs wakes nobody for the jobs a batch     a_stolen_batch_wakes_the_sleeping_peer
#                     steal moved into the thief's deque
#   waker_outside_lock completion.rs leaves a poller's waker after   polled_run_wakes_its_poller
#                     unlocking, without looking at `done` again
#   cancel_unlocked   cancel.rs notifies waiters without the lock    cancel_wakes_a_waiting_child
#   orphan_after_finish completion.rs leaves a dropped handle's run  dropped_handle_races_the_finish
#                     for a finisher that already came
#   subtree_relaxed_end spawn/subtree.rs decrements a subtree's      a_child_finishes_while_its_parent_returns
#                     count Relaxed instead of AcqRel
#   subtree_body_uncounted spawn/subtree.rs leaves the parent's     the_last_descendant_releases_a_static_dependent
#                     body out of its subtree's count
#   join_never_signalled spawn/subtree.rs does not wake a join when  join_races_a_child_completion
#                     its last child ends
#   join_unlocked_check spawn/inbox.rs forgets a signal that came    join_races_a_child_completion
#                     between its look and its wait
#   help_waits_before_flush spawn/help.rs waits before counting the  a_helping_worker_finds_the_awaited_run_finished
#                     units it finished for the awaited run
#   waits_not_nudged  pool.rs does not signal blocked waits when     a_foreign_run_reaches_a_pool_whose_workers_wait
#                     every worker of the pool waits
#   blocked_uncounted pool.rs registers a blocked wait without       a_foreign_run_reaches_a_pool_whose_workers_wait
#                     counting it, so pushers see none to signal
#   join_unregistered spawn/subtree.rs waits without registering in  join_races_a_child_completion
#                     the count, so no child's end signals it
#   park_unchecked    steer/limit.rs parks a task without looking at  a_cancel_frees_a_task_parked_behind_another_run
#                     its run's stop under the limit's lock
#   stopped_keeps_wakeup steer/admission.rs drops the wake-up of a   a_woken_task_of_a_stopped_run_passes_its_wake_up_on
#                     woken task of a stopped run instead of passing
#                     it on to the next waiting task
#   woken_to_injector steer/admission.rs sends a nested run's woken  a_nested_runs_woken_task_goes_back_to_its_waiting_worker
#                     task to its pool's injector, not to the inbox
#                     of the wait that runs the nested run
#   buried_inbox_ignored pool.rs lets a blocked wait ignore the       a_wait_takes_work_buried_in_another_waits_inbox
#                     announced inboxes while every worker blocks
#   sweep_relaxed_progress sweep.rs publishes a sweeper's position      a_swept_task_reads_an_output_of_another_chunk
#                     Relaxed instead of Release
#   parked_not_resumed sweep.rs queues no resume job for a sweeper   a_swept_task_reads_an_output_of_another_chunk
#                     parked at the gate
#   own_child_unannounced spawn/spawning.rs queues a child on its      a_child_on_the_spawners_deque_is_stolen
#                     spawner's own deque without waking a sleeping
#                     peer for it
#   awaited_unmarked  spawn/spawning.rs waits for a sibling without    a_sibling_ends_while_a_child_names_it
#                     marking it awaited, so its end releases nobody
#   inbox_close_unchecked spawn/subtree.rs closes a subtree without    a_grandchild_queues_for_a_returning_grandparent
#                     looking for an inbox made meanwhile (lost, leaked)
#   sweep_leads_unchecked sweep/sweeper.rs takes a new chunk for one    a_swept_task_reads_an_output_of_another_chunk
#                     no other sweeper is behind, without looking
#   sweep_leads_past_its_prefix sweep/sweeper.rs leads on a known       a_swept_task_reads_an_output_of_another_chunk
#                     prefix one task short of its next task
set -u
cd "$(dirname "$0")/.."

failures=0
logs=target/loom-mutants
mkdir -p "$logs"
export RUSTFLAGS="--cfg taskflow_loom"
loom_test=(cargo test --release --target-dir target/loom --test loom)

if ! "${loom_test[@]}" --no-run >"$logs/build.log" 2>&1; then
    echo "ERROR: the loom build failed (see $logs/build.log)"
    exit 1
fi

# expect_caught MUTANT MODEL SIGNATURE: the model must fail, and its output
# must show SIGNATURE (what loom reports for this kind of bug), so that a
# failure for an unrelated reason does not count as a catch.
expect_caught() {
    local mutant=$1 model=$2 signature=$3
    local log="$logs/$mutant-$model.log"
    if TASKFLOW_MUTANT=$mutant "${loom_test[@]}" -- --exact "$model" --test-threads=1 \
        >"$log" 2>&1; then
        echo "SURVIVED: mutant $mutant passed model $model"
        failures=$((failures + 1))
    elif grep -q "$signature" "$log"; then
        echo "caught:   mutant $mutant by model $model ($signature)"
    else
        echo "ERROR: model $model failed under mutant $mutant without reporting '$signature' (see $log)"
        failures=$((failures + 1))
    fi
}

expect_caught lost_wakeup submit_while_the_worker_falls_asleep "deadlock"
expect_caught lost_wakeup cancel_races_a_completion "deadlock"
expect_caught relaxed_pending output_hand_off_between_workers "Causality violation"
expect_caught relaxed_pending diamond_on_two_workers "Causality violation"
expect_caught stale_empty_check a_queued_task_wakes_the_sleeping_peer "deadlock"
expect_caught keep_stolen_jobs a_stolen_batch_wakes_the_sleeping_peer "deadlock"
expect_caught waker_outside_lock polled_run_wakes_its_poller "deadlock"
expect_caught cancel_unlocked cancel_wakes_a_waiting_child "deadlock"
expect_caught orphan_after_finish dropped_handle_races_the_finish "the graph was freed once"
expect_caught subtree_relaxed_end a_child_finishes_while_its_parent_returns "Causality violation"
expect_caught subtree_body_uncounted the_last_descendant_releases_a_static_dependent 'assertion `left == right` failed'
expect_caught join_never_signalled join_races_a_child_completion "deadlock"
expect_caught join_unlocked_check join_races_a_child_completion "deadlock"
expect_caught help_waits_before_flush a_helping_worker_finds_the_awaited_run_finished "deadlock"
expect_caught waits_not_nudged a_foreign_run_reaches_a_pool_whose_workers_wait "deadlock"
expect_caught blocked_uncounted a_foreign_run_reaches_a_pool_whose_workers_wait "deadlock"
expect_caught join_unregistered join_races_a_child_completion "deadlock"
expect_caught park_unchecked a_cancel_frees_a_task_parked_behind_another_run "deadlock"
expect_caught stopped_keeps_wakeup a_woken_task_of_a_stopped_run_passes_its_wake_up_on "deadlock"
expect_caught woken_to_injector a_nested_runs_woken_task_goes_back_to_its_waiting_worker "deadlock"
expect_caught buried_inbox_ignored a_wait_takes_work_buried_in_another_waits_inbox "deadlock"
expect_caught sweep_relaxed_progress a_swept_task_reads_an_output_of_another_chunk "Causality violation"
expect_caught parked_not_resumed a_swept_task_reads_an_output_of_another_chunk "deadlock"
expect_caught own_child_unannounced a_child_on_the_spawners_deque_is_stolen "deadlock"
expect_caught awaited_unmarked a_sibling_ends_while_a_child_names_it "deadlock"
expect_caught inbox_close_unchecked a_grandchild_queues_for_a_returning_grandparent "Arc leaked"
expect_caught sweep_leads_unchecked a_swept_task_reads_an_output_of_another_chunk "Causality violation"
expect_caught sweep_leads_past_its_prefix a_swept_task_reads_an_output_of_another_chunk "Causality violation"

# Every planted bug in src/ must be checked above, and nothing else.
planted_in_src=$(grep -rhoE 'planted\("[a-z_]+"\)' src | sed -E 's/planted\("([a-z_]+)"\)/\1/' | sort -u)
checked=$(grep -oE '^expect_caught [a-z_]+' "$0" | cut -d' ' -f2 | sort -u)
if [ "$planted_in_src" != "$checked" ]; then
    echo "ERROR: the planted bugs in src/ and the ones checked here differ:"
    diff <(echo "$planted_in_src") <(echo "$checked")
    failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
    echo "loom mutants: $failures problem(s)"
    exit 1
fi
echo "loom mutants: every planted bug was caught"
