// The in-memory MongoDB stand-in for tests and the local stack: mongo-java-server with its oplog,
// so collection change streams work, and with secondary (non-unique) indexes that answer equality
// queries, which mongo-java-server itself accepts and ignores (every such query scanned the whole
// collection). Run as `java -cp <mongo lib/*> MongoStandIn.java <port>`.
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;

public class MongoStandIn {
    public static void main(String[] args) throws InterruptedException {
        if (args.length != 1) {
            System.err.println("usage: java -cp <classpath> MongoStandIn.java <port>");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        // The default version's wire protocol is older than current Node drivers accept.
        MongoServer server = new MongoServer(new IndexedMemoryBackend().version(ServerVersion.MONGO_5_0));
        server.enableOplog();
        server.bind("127.0.0.1", port);
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        System.out.println("mongo-java-server listening on 127.0.0.1:" + port);
        Thread.currentThread().join();
    }
}

/** The memory backend whose databases keep their secondary indexes. */
class IndexedMemoryBackend extends MemoryBackend {
    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new MemoryDatabase(databaseName, getCursorRegistry()) {
            @Override
            protected Index<Integer> openOrCreateSecondaryIndex(String collectionName, String indexName,
                                                                List<IndexKey> keys, boolean sparse) {
                return new SecondaryIndex(indexName, keys, sparse);
            }
        };
    }
}

/**
 * A non-unique index: each key value → the documents holding it (_id → position). It answers only
 * a query that is one plain value (string, number, boolean, date, ObjectId) per key of the index,
 * nothing else: other queries scan, as before. The collection matches every document the index
 * returns against the whole query again, so the index only has to miss none: a document is filed
 * under each of its key values, an array field under each element (as the unique indexes do), and
 * values are compared normalized (1 == 1.0), as the query matcher compares them. A sparse index
 * also files documents without the field; an equality on a value never matches those anyway.
 * Positions come back in ascending order, the order a scan returns them in.
 */
class SecondaryIndex extends Index<Integer> {
    private final Map<KeyValue, Map<Object, Integer>> documents = new HashMap<>();
    private long entries;

    SecondaryIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
    }

    /** The _id index gives a document's position; this one cannot from the document's keys alone. */
    @Override
    public Integer getPosition(Document document) {
        return null;
    }

    /** No constraint, but a document the index cannot hold (parallel arrays) is refused, as MongoDB does. */
    @Override
    public void checkAdd(Document document, MongoCollection<Integer> collection) {
        getKeyValues(document);
    }

    @Override
    public synchronized void add(Document document, Integer position, MongoCollection<Integer> collection) {
        Object id = document.get("_id");
        for (KeyValue key : getKeyValues(document))
            if (documents.computeIfAbsent(key, k -> new HashMap<>(2)).put(id, position) == null)
                entries++;
    }

    @Override
    public synchronized Integer remove(Document document) {
        Object id = document.get("_id");
        Integer removed = null;
        for (KeyValue key : getKeyValues(document)) {
            Map<Object, Integer> ids = documents.get(key);
            if (ids == null)
                continue;
            Integer position = ids.remove(id);
            if (position != null) {
                removed = position;
                entries--;
            }
            if (ids.isEmpty())
                documents.remove(key);
        }
        return removed;
    }

    @Override
    public boolean canHandle(Document query) {
        if (!query.keySet().equals(keySet()))
            return false;
        for (Object value : query.values())
            if (!(value instanceof String || value instanceof Integer || value instanceof Long
                || value instanceof Double || value instanceof Boolean || value instanceof Instant
                || value instanceof ObjectId))
                return false;
        return true;
    }

    @Override
    public synchronized Iterable<Integer> getPositions(Document query) {
        List<Object> values = new ArrayList<>();
        for (String key : keys())
            values.add(query.get(key));
        Map<Object, Integer> ids = documents.get(new KeyValue(values).normalized());
        if (ids == null)
            return List.of();
        List<Integer> positions = new ArrayList<>(ids.values());
        Collections.sort(positions);
        return positions;
    }

    @Override
    public synchronized long getCount() {
        return entries;
    }

    @Override
    public long getDataSize() {
        return getCount();
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<Integer> collection) {
        getKeyValues(newDocument);
    }

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, Integer position,
                              MongoCollection<Integer> collection) {
        if (!nullAwareEqualsKeys(oldDocument, newDocument)) {
            remove(oldDocument);
            add(newDocument, position, collection);
        }
    }

    @Override
    public synchronized void drop() {
        documents.clear();
        entries = 0;
    }
}
