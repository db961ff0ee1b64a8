import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * Copies the gateway's jar for a Linux container of one architecture, leaving out the native
 * libraries of every other platform (netty-tcnative ships Windows, macOS and Linux builds: ~4 MB
 * the image never loads). Everything else is copied as is, in order. Run by the Dockerfile with the
 * JDK's source launcher: {@code java SlimJar.java in.jar out.jar}.
 */
public final class SlimJar {
    public static void main(String[] args) throws IOException {
        String arch = switch (System.getProperty("os.arch").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch_64";
            default -> throw new IllegalStateException("unknown architecture " + System.getProperty("os.arch"));
        };
        int kept = 0;
        int dropped = 0;
        try (InputStream file = Files.newInputStream(Path.of(args[0]));
                ZipInputStream in = new ZipInputStream(file);
                OutputStream target = Files.newOutputStream(Path.of(args[1]));
                ZipOutputStream out = new ZipOutputStream(target)) {
            out.setLevel(9);
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                String name = entry.getName();
                boolean nativeLibrary = name.startsWith("META-INF/native/") && !name.endsWith("/");
                if (nativeLibrary && !(name.contains("linux") && name.contains(arch))) {
                    dropped++;
                    continue;
                }
                ZipEntry copy = new ZipEntry(name);
                copy.setTime(entry.getTime());
                out.putNextEntry(copy);
                in.transferTo(out);
                out.closeEntry();
                kept++;
            }
        }
        System.out.printf("SlimJar: kept %d entries, left out %d native libraries of other platforms%n", kept, dropped);
    }
}
