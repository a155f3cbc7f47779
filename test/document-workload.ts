// A random document workload for the Mongo capture tests: inserts, $set/$inc/$unset/$push updates,
// replaces and deletes over documents holding every BSON type the mirror must keep (ObjectId,
// Date, Decimal128, Int64, Int32 and Double, nested documents, arrays) and PII fields.
import { Decimal128, Double, Int32, Long, ObjectId, type Collection, type Document } from 'mongodb';
import { Random } from '../packs/common/random.ts';

export class DocumentWorkload {
  private readonly random: Random;
  private readonly ids: unknown[] = [];
  private serial = 0;

  constructor(
    private readonly collection: Collection<Document>,
    seed: number,
  ) {
    this.random = new Random(seed);
  }

  /** Runs `count` random operations, mostly inserts early on. */
  async run(count: number): Promise<void> {
    for (let index = 0; index < count; index++) await this.step();
  }

  async step(): Promise<void> {
    const roll = this.random.next();
    if (this.ids.length < 5 || roll < 0.4) {
      await this.insert();
      return;
    }
    const id = this.random.pick(this.ids);
    if (roll < 0.7) {
      await this.collection.updateOne({ _id: id } as Document, this.randomUpdate());
    } else if (roll < 0.85) {
      await this.collection.replaceOne({ _id: id } as Document, this.document());
    } else {
      await this.collection.deleteOne({ _id: id } as Document);
      this.ids.splice(this.ids.indexOf(id), 1);
    }
  }

  async insert(extra: Document = {}): Promise<unknown> {
    const id = this.newId();
    await this.collection.insertOne({ _id: id, ...this.document(), ...extra } as Document);
    this.ids.push(id);
    return id;
  }

  /** ObjectIds mostly, but also string and integer ids, which the mirror keeps as extended JSON. */
  private newId(): unknown {
    this.serial++;
    const roll = this.random.next();
    if (roll < 0.7) return new ObjectId();
    if (roll < 0.85) return `doc-${this.serial}-${this.random.hex(3)}`;
    return new Int32(this.serial * 1000 + this.random.int(0, 999));
  }

  private document(): Document {
    const random = this.random;
    return {
      user_id: random.uuid(),
      session_id: random.hex(8),
      event_type: random.pick(['lesson_start', 'lesson_complete', 'word_click', 'audio_play']),
      timestamp: new Date(
        Date.UTC(2026, 10, random.int(1, 28), random.int(0, 23), random.int(0, 59), 0, random.int(0, 999)),
      ),
      count64: Long.fromString(`${random.int(1, 9)}${random.digits('##############')}`),
      count32: new Int32(random.int(-1000, 1000)),
      ratio: new Double(random.chance(0.2) ? random.int(0, 5) : random.between(0, 100)),
      price: Decimal128.fromString(`${random.int(0, 99999)}.${random.digits('##')}`),
      ref: new ObjectId(),
      title: random.pick(['Xin chào', 'Cảm ơn', 'Tạm biệt', 'hello "quoted"', 'tab\there']),
      flags: { active: random.chance(0.5), level: new Int32(random.int(1, 5)), note: null },
      content_info: {
        content_id: random.uuid(),
        scores: [new Int32(random.int(0, 100)), new Double(random.between(0, 1)), null],
        history: [{ at: new Date(Date.UTC(2026, 0, random.int(1, 28))), step: new Int32(1) }],
      },
      email: `learner${random.int(1, 1e6)}@example.com`,
      profile: { phone: random.digits('+84 9## ### ###'), password_hash: random.hex(16) },
    };
  }

  private randomUpdate(): Document {
    const random = this.random;
    switch (random.int(0, 3)) {
      case 0:
        return {
          $set: { title: random.pick(['Một', 'Hai', 'Ba']), 'flags.level': new Int32(random.int(1, 9)) },
        };
      case 1:
        return { $inc: { count32: new Int32(1) } };
      case 2:
        return { $unset: { price: '' } };
      default:
        return { $push: { 'content_info.scores': new Int32(random.int(0, 100)) } };
    }
  }
}
