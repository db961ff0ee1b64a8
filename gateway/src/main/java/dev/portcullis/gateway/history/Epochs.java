package dev.portcullis.gateway.history;

import java.util.concurrent.ThreadLocalRandom;

/** New epochs: 8 random hex digits, enough that two histories of one channel never share one by chance. */
public final class Epochs {
    private Epochs() {}

    public static String next() {
        return String.format("%08x", ThreadLocalRandom.current().nextInt());
    }
}
