# shellcheck shell=bash disable=SC2154,SC2034
# The Megatron-Bridge wrapper's part of the pre-test gate (nccl_gate.h), after the generated
# lines that set GATE_DIR, TRAINING_STDOUT and PRE_HOOK_OUTPUT (sbatch's answer); it sets
# PRE_HOOK_JOB_ID and PRE_HOOK_NODES for the launcher line after it (hence the two checks off).
# stop_launcher comes from the wrapper.
PRE_HOOK_JOB_ID=$(echo "$PRE_HOOK_OUTPUT" | grep -Eo "Submitted batch job [0-9]+" | grep -Eo "[0-9]+" | tail -n1 || true)
if [ -z "$PRE_HOOK_JOB_ID" ]; then echo "Failed to submit pre-hook job: $PRE_HOOK_OUTPUT" >&2; exit 1; fi
echo "Submitted pre-hook batch job $PRE_HOOK_JOB_ID"
# Stopping the wrapper (Ctrl-C in benchpilot) also cancels the gate job.
trap 'scancel "$PRE_HOOK_JOB_ID" 2>/dev/null; stop_launcher' TERM INT
# The pending, running and completing states of the scheduler's state table, copied: this runs
# in bash inside the job, and a workload cannot include the scheduler's code.
pre_hook_alive() {
  case "$(squeue -h -j "$PRE_HOOK_JOB_ID" -o %T 2>/dev/null | head -n 1)" in
    PENDING|REQUEUED|REQUEUE_FED|REQUEUE_HOLD|RESV_DEL_HOLD|CONFIGURING|POWER_UP_NODE) return 0 ;;
    RUNNING|SUSPENDED|STOPPED|SIGNALING|RESIZING|UPDATE_DB|COMPLETING|STAGE_OUT) return 0 ;;
  esac
  return 1
}
# Wait until the gate has its nodes (the training goes to the same ones) or has ended.
while [ ! -s "$GATE_DIR/nodes.txt" ] && [ ! -f "$GATE_DIR/result" ]; do
  if ! pre_hook_alive; then
    sleep 2
    if [ ! -s "$GATE_DIR/nodes.txt" ]; then
      echo "Pre-hook job $PRE_HOOK_JOB_ID ended before it ran its tests; the training job is not submitted." >&2
      exit 1
    fi
  fi
  sleep 1
done
if [ "$(cat "$GATE_DIR/result" 2>/dev/null)" = FAILED ]; then
  echo "Pre-hook tests failed (job $PRE_HOOK_JOB_ID); the training job is not submitted. See $GATE_DIR/results.txt." >&2
  exit 1
fi
PRE_HOOK_NODES=$(paste -sd, "$GATE_DIR/nodes.txt")
# The training job's id, once the launcher's relay printed it (the gate's line reads
# "Submitted pre-hook batch job").
training_job_id() {
  grep -Eo "^Submitted batch job [0-9]+" "$TRAINING_STDOUT" 2>/dev/null | grep -Eo "[0-9]+" | tail -n1
}
# Slurm leaves a job whose afterok dependency failed pending: cancel it when the gate fails.
watch_pre_hook() {
  while [ ! -f "$GATE_DIR/result" ] && kill -0 $$ 2>/dev/null; do
    if ! pre_hook_alive; then sleep 2; break; fi
    sleep 1
  done
  [ "$(cat "$GATE_DIR/result" 2>/dev/null)" = PASSED ] && return 0
  echo "Pre-hook tests failed (job $PRE_HOOK_JOB_ID); cancelling the training job. See $GATE_DIR/results.txt." >&2
  local id=""
  while [ -z "$id" ] && kill -0 $$ 2>/dev/null; do
    id=$(training_job_id)
    [ -n "$id" ] || sleep 1
  done
  if [ -n "$id" ]; then scancel "$id"; fi
}
watch_pre_hook &
