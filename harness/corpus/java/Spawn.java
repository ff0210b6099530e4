// A JVM that runs a child process (ProcessBuilder: posix_spawn through jspawnhelper).
public class Spawn {
    public static void main(String[] args) throws Exception {
        Process p = new ProcessBuilder("/bin/sh", "-c", "echo spawned").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0 || !out.equals("spawned")) throw new IllegalStateException(out);
        System.out.println("CORPUS OK");
    }
}
