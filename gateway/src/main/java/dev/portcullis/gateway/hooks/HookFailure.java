package dev.portcullis.gateway.hooks;

/**
 * A hook call that produced no decision, with its outcome as counted in
 * {@code portcullis_hook_results_total}: {@code timeout}, {@code error}, {@code breaker_open} or
 * {@code overloaded}. Without a stack trace: it is an expected event, counted, not a bug.
 */
final class HookFailure extends RuntimeException {
    private final String outcome;

    HookFailure(String outcome, String message, Throwable cause) {
        super(message, cause, false, false);
        this.outcome = outcome;
    }

    String outcome() {
        return outcome;
    }
}
