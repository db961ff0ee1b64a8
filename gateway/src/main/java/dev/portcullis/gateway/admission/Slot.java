package dev.portcullis.gateway.admission;

/** One connection's reservation in {@link ConnectionSlots}, held from TCP accept to close. */
public interface Slot {

    /** Gives the reservation back. Safe from any thread; calls after the first are no-ops. */
    void release();
}
