package dev.portcullis.gateway.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Static files for {@code ./portcullis dev} only: the chat example and the JS client's bundle, served
 * on the public listener next to the WebSocket path so the page and its socket share an origin. In
 * production there is no dev site and the listener answers nothing but {@code server.path}.
 *
 * <p>Deliberately small: GET and HEAD, file names of {@code [A-Za-z0-9._-]} segments (no dot files,
 * no {@code ..}), a fixed set of content types, files up to 1 MiB read per request, {@code no-store};
 * a file's real path must lie under its root's (no symbolic link out). Files are read on the event
 * loop: a dev page's few small files, never production traffic. A path is looked up in each root in
 * turn; {@code /} is {@code index.html}.
 */
public final class DevSite {
    private static final Pattern SAFE_PATH = Pattern.compile("(/[A-Za-z0-9_-][A-Za-z0-9._-]*)+");
    private static final long MAX_FILE_BYTES = 1 << 20;
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html",
            "js", "text/javascript",
            "mjs", "text/javascript",
            "css", "text/css",
            "json", "application/json",
            "map", "application/json",
            "svg", "image/svg+xml",
            "ts", "text/plain");

    private final List<Path> roots;

    /** @param roots directories searched in order; those that do not exist are skipped at lookup */
    public DevSite(List<Path> roots) {
        this.roots = roots.stream().map(p -> p.toAbsolutePath().normalize()).toList();
    }

    public List<Path> roots() {
        return roots;
    }

    /** The file a request path names, or null. */
    public Path resolve(String path) {
        String name = path.equals("/") ? "/index.html" : path;
        if (!SAFE_PATH.matcher(name).matches() || !TYPES.containsKey(extension(name))) {
            return null;
        }
        for (Path root : roots) {
            Path file = root.resolve(name.substring(1)).normalize();
            try {
                // Real paths: a symbolic link inside a root must not lead out of it.
                Path real = file.toRealPath();
                if (real.startsWith(root.toRealPath()) && Files.isRegularFile(real)) {
                    return real;
                }
            } catch (IOException e) {
                // no such file (or root) here: try the next root
            }
        }
        return null;
    }

    /** Answers a request for {@code path}: the file, or 404 / 405 as plain JSON errors. */
    void serve(ChannelHandlerContext ctx, HttpMethod method, String path) {
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            HttpResponses.sendAndClose(ctx, HttpResponses.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "GET only"));
            return;
        }
        Path file = resolve(path);
        byte[] body;
        try {
            if (file == null || Files.size(file) > MAX_FILE_BYTES) {
                HttpResponses.sendAndClose(ctx, HttpResponses.error(HttpResponseStatus.NOT_FOUND, "not_found", "no such file"));
                return;
            }
            body = Files.readAllBytes(file);
        } catch (IOException e) {
            HttpResponses.sendAndClose(ctx, HttpResponses.error(HttpResponseStatus.NOT_FOUND, "not_found", "no such file"));
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                method.equals(HttpMethod.HEAD) ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, TYPES.get(extension(file.toString())) + "; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .set("X-Content-Type-Options", "nosniff");
        HttpResponses.sendAndClose(ctx, response);
    }

    private static String extension(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1);
    }
}
