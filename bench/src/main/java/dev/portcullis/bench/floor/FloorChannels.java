package dev.portcullis.bench.floor;

import dev.portcullis.gateway.channel.Publication;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The floor's fan-out: channel name to subscribed sockets, one shard per event loop, and each
 * publication written as one pre-encoded frame shared by reference count.
 *
 * <p>The structure is the gateway's {@code SubscriptionIndex} with everything else taken out: a
 * publication is queued once per shard; the shard's drain (on its loop) takes what is queued, at
 * most {@link #MAX_BATCH}, writes all of it to each member and flushes each member once, so a burst
 * costs one write system call per socket. What the floor does not do, because it is not needed to
 * move the bytes: sessions, permissions, history, slow-consumer grace, metrics. It keeps one bound:
 * a socket whose outbound buffer is over Netty's high-water mark when a publication reaches it is
 * closed (a generator that stops reading shows up as lost connections, never as memory growth).
 *
 * <p>Ordering: offsets are assigned and shards enqueued under the channel's lock, so every socket
 * receives a channel's publications in offset order, whichever admin connection published them.
 *
 * <p>Threading: {@link #subscribe} runs on the socket's event loop, {@link #publish} anywhere; a
 * shard's member list is touched only on its loop.
 */
final class FloorChannels {
    /** Publications one drain writes at most before it flushes (the gateway's batch too). */
    static final int MAX_BATCH = 64;
    /** What the floor writes as the publication's epoch: the frame has the gateway's exact shape. */
    static final String EPOCH = "floor";

    private final ConcurrentHashMap<String, Topic> topics = new ConcurrentHashMap<>();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong closedSlow = new AtomicLong();

    private static final class Topic {
        long lastOffset = -1;
        /** Copy-on-write under the topic's lock; read by publishers under it too. */
        Shard[] shards = new Shard[0];
    }

    private final class Shard implements Runnable {
        final EventLoop loop;
        /** Touched only on {@link #loop}. */
        final List<Channel> members = new ArrayList<>();
        final Queue<ByteBuf> pending = new ConcurrentLinkedQueue<>();
        final AtomicBoolean scheduled = new AtomicBoolean();

        Shard(EventLoop loop) {
            this.loop = loop;
        }

        void enqueue(ByteBuf frame) {
            pending.add(frame);
            if (scheduled.compareAndSet(false, true)) {
                try {
                    loop.execute(this);
                } catch (RejectedExecutionException shutDown) {
                    // The floor is stopping and this loop's sockets with it: release what waits for them.
                    for (ByteBuf left; (left = pending.poll()) != null; ) {
                        left.release();
                    }
                }
            }
        }

        @Override
        public void run() {
            ByteBuf[] batch = new ByteBuf[MAX_BATCH];
            int taken = 0;
            for (ByteBuf frame; taken < MAX_BATCH && (frame = pending.poll()) != null; ) {
                batch[taken++] = frame;
            }
            long writes = 0;
            try {
                for (int m = members.size() - 1; m >= 0; m--) {
                    Channel member = members.get(m);
                    if (!member.isWritable()) {
                        closedSlow.incrementAndGet();
                        member.close(); // its close listener may remove it from members at once: hence the loop from the end
                        continue;
                    }
                    for (int i = 0; i < taken; i++) {
                        member.write(batch[i].retainedDuplicate(), member.voidPromise());
                    }
                    member.flush();
                    writes += taken;
                }
            } finally {
                for (int i = 0; i < taken; i++) {
                    batch[i].release();
                }
                delivered.addAndGet(writes);
                scheduled.set(false);
                // Queued after the last poll but while the flag was still set: nobody scheduled it.
                if (!pending.isEmpty() && scheduled.compareAndSet(false, true)) {
                    loop.execute(this);
                }
            }
        }
    }

    /** Adds {@code socket} (an open WebSocket) to {@code channel}; on the socket's event loop. */
    void subscribe(String channel, Channel socket) {
        EventLoop loop = socket.eventLoop();
        Topic topic = topics.computeIfAbsent(channel, name -> new Topic());
        Shard shard;
        synchronized (topic) {
            shard = shardOf(topic, loop);
        }
        if (!shard.members.contains(socket)) {
            shard.members.add(socket);
            socket.closeFuture().addListener(f -> shard.members.remove(socket)); // runs on the socket's (the shard's) loop
        }
    }

    /**
     * Encodes {@code dataJson} once as a message frame of {@code channel} with the next offset and
     * queues it on every shard; returns the offset.
     */
    long publish(String channel, String dataJson) {
        Topic topic = topics.computeIfAbsent(channel, name -> new Topic());
        synchronized (topic) {
            long offset = ++topic.lastOffset;
            Publication publication = Publication.encode(channel, offset, EPOCH, dataJson);
            try {
                for (Shard shard : topic.shards) {
                    shard.enqueue(publication.retainedWireFrame());
                }
            } finally {
                publication.release();
            }
            return offset;
        }
    }

    /** Frames handed to sockets so far (for the floor's own log line). */
    long delivered() {
        return delivered.get();
    }

    long closedSlow() {
        return closedSlow.get();
    }

    private Shard shardOf(Topic topic, EventLoop loop) {
        for (Shard shard : topic.shards) {
            if (shard.loop == loop) {
                return shard;
            }
        }
        Shard shard = new Shard(loop);
        Shard[] grown = java.util.Arrays.copyOf(topic.shards, topic.shards.length + 1);
        grown[grown.length - 1] = shard;
        topic.shards = grown;
        return shard;
    }
}
