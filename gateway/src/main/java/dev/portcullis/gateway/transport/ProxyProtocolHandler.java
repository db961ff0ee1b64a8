package dev.portcullis.gateway.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the PROXY protocol header (decoded by Netty's {@code HAProxyMessageDecoder} in front of
 * it) and records the client address it carries in {@link #CLIENT_ADDRESS}, then fires
 * {@link #ADDRESS_KNOWN} and leaves the pipeline. A {@code LOCAL} header (a load balancer's health
 * check) keeps the TCP peer. A connection that does not start with a valid header is closed by the
 * decoder's error, before anything else is read.
 */
final class ProxyProtocolHandler extends ChannelInboundHandlerAdapter {
    static final AttributeKey<InetSocketAddress> CLIENT_ADDRESS = AttributeKey.valueOf("portcullis.client-address");
    /** User event: {@link #CLIENT_ADDRESS} is set. */
    static final Object ADDRESS_KNOWN = new Object() {
        @Override
        public String toString() {
            return "ADDRESS_KNOWN";
        }
    };
    private static final Logger log = LoggerFactory.getLogger(ProxyProtocolHandler.class);

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage header)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            InetSocketAddress client = (InetSocketAddress) ctx.channel().remoteAddress();
            if (header.command() == HAProxyCommand.PROXY && header.sourceAddress() != null) {
                client = new InetSocketAddress(header.sourceAddress(), header.sourcePort());
            }
            ctx.channel().attr(CLIENT_ADDRESS).set(client);
        } finally {
            header.release();
        }
        ctx.pipeline().remove(this);
        ctx.pipeline().fireUserEventTriggered(ADDRESS_KNOWN);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("no valid PROXY protocol header: {}", cause.toString());
        ctx.close();
    }
}
