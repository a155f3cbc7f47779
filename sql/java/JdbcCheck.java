// What an analyst's JVM tool does against the SQL endpoint, with the official ClickHouse JDBC
// driver: connect, read the metadata (tables, columns), run a parameterised query, read every
// mart, and get readable errors for a bad query and for a write by a read-only user. Prints one
// "ok ..." line per step; any failure exits non-zero with the reason.
// Usage: java JdbcCheck JDBC_URL USER PASSWORD
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public final class JdbcCheck {
  public static void main(String[] args) throws Exception {
    Properties properties = new Properties();
    properties.setProperty("user", args[1]);
    properties.setProperty("password", args[2]);
    try (Connection connection = DriverManager.getConnection(args[0], properties)) {
      DatabaseMetaData meta = connection.getMetaData();
      System.out.println("ok connected " + meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion());

      List<String> marts = new ArrayList<>();
      try (ResultSet tables = meta.getTables(null, "analytics", "mart_%", null)) {
        while (tables.next()) marts.add(tables.getString("TABLE_NAME"));
      }
      if (marts.isEmpty()) throw new IllegalStateException("getTables found no mart");
      System.out.println("ok tables " + String.join(",", marts));

      List<String> columns = new ArrayList<>();
      try (ResultSet rs = meta.getColumns(null, "analytics", "mart_dau", "%")) {
        while (rs.next()) columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME"));
      }
      if (columns.isEmpty()) throw new IllegalStateException("getColumns found no column of mart_dau");
      System.out.println("ok columns mart_dau " + String.join(",", columns));

      try (PreparedStatement statement = connection.prepareStatement(
          "SELECT count() AS n, min(day) AS first FROM mart_dau WHERE pack = ? AND dau >= ?")) {
        statement.setString(1, "learning");
        statement.setLong(2, 0L);
        try (ResultSet rs = statement.executeQuery()) {
          rs.next();
          System.out.println("ok parameterised " + rs.getLong("n") + " " + rs.getObject("first"));
        }
      }

      for (String mart : marts) {
        long rows = 0;
        try (Statement statement = connection.createStatement();
            ResultSet rs = statement.executeQuery("SELECT * FROM " + mart + " ORDER BY ALL LIMIT 1000")) {
          ResultSetMetaData shape = rs.getMetaData();
          while (rs.next()) {
            for (int column = 1; column <= shape.getColumnCount(); column++) rs.getObject(column);
            rows++;
          }
        }
        System.out.println("ok read " + mart + " " + rows);
      }

      expectError(connection, "SELEC 1", "bad query");
      expectError(connection, "INSERT INTO mart_dau (pack) VALUES ('x')", "write");
      expectError(connection, "SELECT * FROM tributary.checkpoints", "bookkeeping");
    }
  }

  private static void expectError(Connection connection, String sql, String what) throws Exception {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException error) {
      System.out.println("ok error " + what + ": " + error.getMessage().replace('\n', ' '));
      return;
    }
    throw new IllegalStateException("no error for the " + what + ": " + sql);
  }
}
