// The in-memory MongoDB stand-in for tests and the local stack: mongo-java-server with its oplog,
// so collection change streams work. Run as `java -cp <mongo lib/*> MongoStandIn.java <port>`.
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

public class MongoStandIn {
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 1) {
            System.err.println("usage: java -cp <classpath> MongoStandIn.java <port>");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        // The default version's wire protocol is older than current Node drivers accept.
        MongoServer server = new MongoServer(new MemoryBackend().version(ServerVersion.MONGO_5_0));
        server.enableOplog();
        server.bind("127.0.0.1", port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        System.out.println("mongo-java-server listening on 127.0.0.1:" + port);
        Thread.currentThread().join();
    }
}
