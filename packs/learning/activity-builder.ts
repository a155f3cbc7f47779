// Drafts a lesson exercise: what lesson_activities.content shows the learner, plus the right answer
// and a typical wrong one that simulated attempts submit as user_answers.
import type { Random } from '../common/random.ts';
import { blankOut, syllables } from './vietnamese-text.ts';

export type ActivityType = 'quiz' | 'fill_blank' | 'match' | 'listening' | 'speaking' | 'ordering';

export interface GlossedWord {
  text: string;
  english: string;
}

export interface ActivityMaterial {
  /** Words the lesson teaches. */
  words: readonly GlossedWord[];
  /** Sentences of the lesson's paragraphs. */
  sentences: readonly string[];
  /** Other words, for wrong options. */
  distractors: readonly GlossedWord[];
  /** Other sentences, for wrong listening options. */
  otherSentences: readonly string[];
}

export interface ActivityDraft {
  type: ActivityType;
  title: string;
  instruction: string;
  points: number;
  timeLimitSeconds: number | null;
  content: Record<string, unknown>;
  correctAnswer: Record<string, unknown>;
  wrongAnswer: Record<string, unknown>;
}

const AUDIO_CDN = 'https://cdn.hoctiengviet.example/audio/sentences';

export function draftActivity(random: Random, type: ActivityType, material: ActivityMaterial): ActivityDraft {
  switch (type) {
    case 'quiz':
      return quiz(random, material);
    case 'fill_blank':
      return fillBlank(random, material) ?? quiz(random, material);
    case 'match':
      return match(random, material);
    case 'listening':
      return listening(random, material);
    case 'speaking':
      return speaking(random, material);
    case 'ordering':
      return ordering(random, material);
  }
}

function quiz(random: Random, { words, distractors }: ActivityMaterial): ActivityDraft {
  const word = random.pick(words);
  const wrongOptions = random.sample(
    distractors.filter((other) => other.english !== word.english).map((other) => other.english),
    3,
  );
  const options = random.shuffle([word.english, ...wrongOptions]);
  const answerIndex = options.indexOf(word.english);
  return {
    type: 'quiz',
    title: 'Chọn nghĩa đúng',
    instruction: 'Choose the correct meaning.',
    points: 10,
    timeLimitSeconds: 30,
    content: { question: `What does "${word.text}" mean?`, options },
    correctAnswer: { choice: answerIndex },
    wrongAnswer: { choice: (answerIndex + 1) % options.length },
  };
}

function fillBlank(random: Random, { words, sentences }: ActivityMaterial): ActivityDraft | null {
  for (const word of random.shuffle(words)) {
    const blanked = sentences.map((sentence) => blankOut(sentence, word.text)).find((text) => text !== null);
    if (!blanked) continue;
    const otherWords = words.filter((other) => other.text !== word.text);
    return {
      type: 'fill_blank',
      title: 'Điền vào chỗ trống',
      instruction: 'Fill in the blank with the missing word.',
      points: 10,
      timeLimitSeconds: 45,
      content: { sentence: blanked, hint: word.english },
      correctAnswer: { text: word.text },
      wrongAnswer: { text: otherWords.length > 0 ? random.pick(otherWords).text : '' },
    };
  }
  return null;
}

function match(random: Random, { words, distractors }: ActivityMaterial): ActivityDraft {
  const chosen = random.sample(words.length >= 4 ? words : [...words, ...distractors], 4);
  const pairs = Object.fromEntries(chosen.map((word) => [word.text, word.english]));
  const [first, second] = chosen;
  const swapped =
    first && second ? { ...pairs, [first.text]: second.english, [second.text]: first.english } : pairs;
  return {
    type: 'match',
    title: 'Nối từ với nghĩa',
    instruction: 'Match each Vietnamese word with its meaning.',
    points: 20,
    timeLimitSeconds: 90,
    content: {
      left: chosen.map((word) => word.text),
      right: random.shuffle(chosen.map((word) => word.english)),
    },
    correctAnswer: { pairs },
    wrongAnswer: { pairs: swapped },
  };
}

function listening(random: Random, { sentences, otherSentences }: ActivityMaterial): ActivityDraft {
  const sentence = random.pick(sentences);
  const options = random.shuffle([sentence, ...random.sample(otherSentences, 2)]);
  const answerIndex = options.indexOf(sentence);
  return {
    type: 'listening',
    title: 'Nghe và chọn',
    instruction: 'Listen and pick the sentence you heard.',
    points: 10,
    timeLimitSeconds: 60,
    content: { audio_url: `${AUDIO_CDN}/${random.hex(8)}.mp3`, question: 'Bạn nghe thấy câu nào?', options },
    correctAnswer: { choice: answerIndex },
    wrongAnswer: { choice: (answerIndex + 1) % options.length },
  };
}

function speaking(random: Random, { sentences }: ActivityMaterial): ActivityDraft {
  const sentence = random.pick(sentences);
  const spoken = syllables(sentence);
  return {
    type: 'speaking',
    title: 'Luyện phát âm',
    instruction: 'Read the sentence aloud; mind the tones.',
    points: 15,
    timeLimitSeconds: null,
    content: { prompt: 'Đọc to câu sau', target_text: sentence, min_accuracy: 0.7 },
    correctAnswer: { transcript: spoken.join(' '), accuracy: 0.93 },
    wrongAnswer: { transcript: spoken.slice(0, -1).join(' '), accuracy: 0.58 },
  };
}

function ordering(random: Random, { sentences }: ActivityMaterial): ActivityDraft {
  const sentence = [...sentences].sort((a, b) => a.length - b.length)[0] ?? random.pick(sentences);
  const tiles = random.shuffle(syllables(sentence));
  return {
    type: 'ordering',
    title: 'Sắp xếp câu',
    instruction: 'Put the words in the right order.',
    points: 15,
    timeLimitSeconds: 60,
    content: { tiles },
    correctAnswer: { text: syllables(sentence).join(' ') },
    wrongAnswer: { text: tiles.join(' ') },
  };
}
