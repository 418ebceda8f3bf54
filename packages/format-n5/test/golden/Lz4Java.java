// Generator / checker for the lz4 golden files: n5-java's Lz4Compression writes block data
// through lz4-java's LZ4BlockOutputStream(out, blockSize) and reads it through
// LZ4BlockInputStream(in). Run with Debian's liblz4-java (and a JDK):
//   java -cp /usr/share/java/lz4-java.jar Lz4Java.java write <dir>     (writes <name>.bin and <name>.lz4)
//   java -cp /usr/share/java/lz4-java.jar Lz4Java.java read <file>     (decodes a stream to stdout)
import java.io.*;
import java.nio.file.*;
import java.util.Random;
import net.jpountz.lz4.LZ4BlockInputStream;
import net.jpountz.lz4.LZ4BlockOutputStream;

public class Lz4Java {
  static void write(Path dir, String name, byte[] data, int blockSize) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (LZ4BlockOutputStream out = new LZ4BlockOutputStream(bos, blockSize)) {
      out.write(data);
    }
    Files.write(dir.resolve(name + ".bin"), data);
    Files.write(dir.resolve(name + ".lz4"), bos.toByteArray());
  }

  public static void main(String[] args) throws IOException {
    if (args[0].equals("read")) {
      try (InputStream in = new LZ4BlockInputStream(new FileInputStream(args[1]))) {
        in.transferTo(System.out);
      }
      return;
    }
    Path dir = Paths.get(args[1]);
    write(dir, "empty-65536", new byte[0], 65536);
    write(dir, "one-byte-65536", new byte[] { 42 }, 65536);
    byte[] text = new byte[200000];
    for (int i = 0; i < text.length; i++) text[i] = (byte) ("N5 blocks compressed with lz4. ".charAt(i % 30) + (i / 5000));
    write(dir, "compressible-65536", text, 65536);
    byte[] rnd = new byte[5000];
    new Random(5).nextBytes(rnd);
    write(dir, "random-1024", rnd, 1024);
    // A big-endian uint16 ramp, as an N5 block's data would be.
    byte[] ramp = new byte[2 * 16 * 16 * 8];
    for (int i = 0; i < ramp.length / 2; i++) { ramp[2 * i] = (byte) ((i * 7) >> 8); ramp[2 * i + 1] = (byte) (i * 7); }
    write(dir, "uint16-ramp-65536", ramp, 65536);
  }
}
