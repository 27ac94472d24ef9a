"""The grader's configuration, in one visible place (docs/CONTRACT.md, "Thresholds and limits").

Timing thresholds are ratios measured in the same grading run, never absolute seconds: the
student's function and the reference go through the same harness, interleaved, after a warm-up,
with BLAS pinned to one thread, on fresh inputs every repeat, keeping the minimum of the repeats.
"""

# One BLAS thread: on a busy 2-core machine a second thread makes timings swing several-fold.
# A running process is pinned with threadpoolctl (autograder.timing, the grading worker, the
# bench); this environment is for the processes that must START pinned, before numpy loads: the
# caged child (a process with threads cannot enter a user namespace, autograder/sandbox.py) and
# a student's kernel (the notebooks' setup cell: the student environment has no threadpoolctl).
PINNED_THREADS = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}

# ---- timing thresholds (§4) -------------------------------------------------------------------
# conv_forward_partial must be at least this many times faster than the reference seven loops,
# on a case with f*f*C >= 400.
PARTIAL_MIN_SPEEDUP_VS_NAIVE = 5.0
# conv_forward_im2col, conv_backward_im2col, col2im: at most this many times the reference's time.
# 8, not the spec's default 10: a backward pass whose col2im loops over windows measures 20-34x
# the reference (autograder/cases.py), too close to 2 x 10; the slowest honest style
# measures at most ~2.4x, well under 8 / 2.
IM2COL_MAX_RATIO = 8.0
# conv_forward_fft: at most this many times the reference FFT time.
FFT_MAX_RATIO = 10.0
# conv_forward_im2col: peak extra memory at most this many times the bytes of its X_col.
IM2COL_MAX_MEMORY_FACTOR = 4.0

# ---- timing harness ---------------------------------------------------------------------------
TIMING_WARMUP = 1          # untimed calls of each function before measuring
TIMING_REPEATS = 5         # interleaved timed calls of each; the minimum is kept

# ---- sandbox limits (per child process) -------------------------------------------------------
CALL_TIMEOUT_S = 10.0            # wall clock for one call (every graded call takes milliseconds)
NOTEBOOK_TIMEOUT_S = 60.0        # wall clock for running the submission's code cells
CHILD_MEMORY_BYTES = 3 * 2**30   # address space
CHILD_CPU_SECONDS = 300          # CPU time over the child's life
CHILD_FILE_BYTES = 64 * 2**20    # largest file the child may write
# Processes and threads of the sandbox's own uid: 1 means the child cannot fork or start a thread,
# so the CPU time the parent reads from /proc for that one process covers all the work it does
# (a student cannot offload a timed call to a helper process).
CHILD_PROCESSES = 1
OUTPUT_LIMIT_CHARS = 4000        # captured stdout/stderr kept per submission

# ---- grading run -------------------------------------------------------------------------------
# Wall clock for grading one submission, worker start to results (Gradescope's default limit).
# The sandbox's own limits (CALL_TIMEOUT_S, NOTEBOOK_TIMEOUT_S) stop a hang much earlier.
SUBMISSION_TIMEOUT_S = 600.0
# Timeouts of one student function after which it is not called again in that grading run.
HANG_STRIKES = 1
# A timed answer already EARLY_STOP_FACTOR x past its limit after EARLY_STOP_AFTER repeats is
# stopped there: a correct answer on a busy machine is never that far off twice in a row.
EARLY_STOP_AFTER = 2
EARLY_STOP_FACTOR = 3.0
# Mistakes are diagnosed on calls up to this many input numbers (every small case); on large
# cases (AlexNet) building every mistaken variant would cost seconds and say nothing new.
DIAGNOSE_MAX_INPUT = 200_000

POINTS_PER_ASSIGNMENT = 100
