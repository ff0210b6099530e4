// JDBC (Debian's PostgreSQL driver) against a real PostgreSQL over TCP on loopback.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;

public class Jdbc {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/postgres?user=postgres";
        try (Connection c = DriverManager.getConnection(url)) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TEMP TABLE items (id serial PRIMARY KEY, name text)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO items (name) VALUES (?)")) {
                for (int i = 0; i < 20; i++) {
                    ps.setString(1, "n" + i);
                    ps.executeUpdate();
                }
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
                rs.next();
                if (rs.getInt(1) != 20) throw new IllegalStateException("count " + rs.getInt(1));
            }
        }
        System.out.println("CORPUS OK");
    }
}
