// The learning material the simulated platform teaches: Vietnamese vocabulary, reading sentences,
// lesson headlines and course outlines, grouped by topic.

export type Topic = 'greetings' | 'daily_life' | 'food' | 'family' | 'travel' | 'culture' | 'business';

export interface VocabularyEntry {
  text: string;
  partOfSpeech: string;
  /** Hanoi pronunciation in IPA with Chao tone letters. */
  phonetic: string;
  english: string;
  etymology: string | null;
}

export interface TopicContent {
  topic: Topic;
  titleVi: string;
  titleEn: string;
  difficulty: readonly [min: number, max: number];
  objectives: readonly string[];
  lessonHeadlines: readonly string[];
  sentences: readonly string[];
  vocabulary: readonly VocabularyEntry[];
}

export interface SeriesOutline {
  title: string;
  description: string;
  /** Takes the first `count` lessons of each topic, in order. */
  parts: readonly (readonly [Topic, number])[];
}

function word(
  text: string,
  partOfSpeech: string,
  phonetic: string,
  english: string,
  etymology: string | null = null,
): VocabularyEntry {
  return { text, partOfSpeech, phonetic, english, etymology };
}

export const TOPICS: readonly TopicContent[] = [
  {
    topic: 'greetings',
    titleVi: 'Chào hỏi',
    titleEn: 'Greetings',
    difficulty: [1, 2],
    objectives: [
      'Greet people politely',
      'Introduce yourself',
      'Chào hỏi lịch sự với người lớn tuổi',
      'Dùng "ạ" và "nhé" đúng lúc',
    ],
    lessonHeadlines: [
      'Xin chào!',
      'Bạn khỏe không?',
      'Giới thiệu bản thân',
      'Bạn là người nước nào?',
      'Tạm biệt và hẹn gặp lại',
    ],
    sentences: [
      'Xin chào! Tôi tên là Lan. Rất vui được gặp bạn.',
      'Bạn khỏe không? Cảm ơn, tôi khỏe.',
      'Bạn là người nước nào? Tôi là người Úc.',
      'Hẹn gặp lại bạn ngày mai nhé!',
      'Xin lỗi, tôi không hiểu. Bạn nói chậm hơn được không?',
      'Năm nay bạn bao nhiêu tuổi?',
      'Tạm biệt, chúc bạn một ngày tốt lành!',
      'Chào anh, anh có khỏe không ạ?',
    ],
    vocabulary: [
      word('xin chào', 'interjection', 'sin˧ t͡ɕaːw˨˩', 'hello'),
      word('cảm ơn', 'verb', 'kaːm˧˩ ʔəːn˧', 'thank you', 'Sino-Vietnamese 感恩'),
      word('xin lỗi', 'verb', 'sin˧ loj˧ˀ˥', 'sorry; excuse me'),
      word('tạm biệt', 'interjection', 'taːm˨ˀ˩ ʔɓiət̚˨ˀ˩', 'goodbye', 'Sino-Vietnamese 暫別'),
      word('khỏe', 'adjective', 'xwɛ˧˩', 'healthy, well'),
      word('tên', 'noun', 'ten˧', 'name'),
      word('gặp', 'verb', 'ɣap̚˨ˀ˩', 'to meet'),
      word('vui', 'adjective', 'vuj˧', 'happy, glad'),
      word('hiểu', 'verb', 'hiəw˧˩', 'to understand'),
      word('nói', 'verb', 'nɔj˧˥', 'to speak'),
      word('chậm', 'adjective', 't͡ɕəm˨ˀ˩', 'slow'),
      word('tuổi', 'noun', 'tuəj˧˩', 'age, years old'),
      word('người', 'noun', 'ŋɨəj˨˩', 'person, people'),
      word('bạn', 'pronoun', 'ʔɓaːn˨ˀ˩', 'you; friend'),
      word('tôi', 'pronoun', 'toj˧', 'I, me'),
      word('ngày mai', 'noun', 'ŋaj˨˩ maːj˧', 'tomorrow'),
    ],
  },
  {
    topic: 'daily_life',
    titleVi: 'Cuộc sống hằng ngày',
    titleEn: 'Daily life',
    difficulty: [2, 4],
    objectives: [
      'Talk about your daily routine',
      'Tell the time',
      'Nói về thời tiết',
      'Describe how you get around',
    ],
    lessonHeadlines: [
      'Một ngày của tôi',
      'Mấy giờ rồi?',
      'Trời hôm nay thế nào?',
      'Đi làm bằng gì?',
      'Cuối tuần làm gì?',
    ],
    sentences: [
      'Mỗi buổi sáng tôi thức dậy lúc sáu giờ.',
      'Tôi thường uống một ly cà phê sữa đá trước khi đi làm.',
      'Buổi tối, cả nhà tôi ăn cơm cùng nhau.',
      'Mẹ tôi nấu canh chua rất ngon.',
      'Cuối tuần, tôi thích đi dạo ở công viên gần nhà.',
      'Hôm nay trời nắng đẹp, không có mưa.',
      'Tôi đi làm bằng xe máy vì đường rất đông.',
      'Em gái tôi học ở trường gần chợ.',
    ],
    vocabulary: [
      word('buổi sáng', 'noun', 'ʔɓuəj˧˩ saːŋ˧˥', 'morning'),
      word('thức dậy', 'verb', 'tʰɨk̚˧˥ zəj˨ˀ˩', 'to wake up'),
      word('giờ', 'noun', 'zəː˨˩', "hour; o'clock"),
      word('cà phê', 'noun', 'kaː˨˩ fe˧', 'coffee', 'French café'),
      word('sữa', 'noun', 'sɨə˧ˀ˥', 'milk'),
      word('đi làm', 'verb', 'ʔɗi˧ laːm˨˩', 'to go to work'),
      word('buổi tối', 'noun', 'ʔɓuəj˧˩ toj˧˥', 'evening'),
      word('nấu', 'verb', 'nəw˧˥', 'to cook'),
      word('công viên', 'noun', 'kəwŋ͡m˧ viən˧', 'park', 'Sino-Vietnamese 公園'),
      word('nhà', 'noun', 'ɲaː˨˩', 'house, home'),
      word('trời', 'noun', 't͡ɕəːj˨˩', 'sky; weather'),
      word('nắng', 'adjective', 'naŋ˧˥', 'sunny'),
      word('mưa', 'noun', 'mɨə˧', 'rain'),
      word('xe máy', 'noun', 'sɛ˧ maj˧˥', 'motorbike'),
      word('đường', 'noun', 'ʔɗɨəŋ˨˩', 'road, street'),
      word('cuối tuần', 'noun', 'kuəj˧˥ twən˨˩', 'weekend'),
      word('thích', 'verb', 'tʰïk̚˧˥', 'to like'),
      word('trường', 'noun', 't͡ɕɨəŋ˨˩', 'school', 'Sino-Vietnamese 場'),
    ],
  },
  {
    topic: 'food',
    titleVi: 'Ẩm thực',
    titleEn: 'Food and drink',
    difficulty: [2, 5],
    objectives: [
      'Order food at a street stall',
      'Ask for the bill',
      'Gọi món bằng tiếng Việt',
      'Describe how food tastes',
    ],
    lessonHeadlines: ['Phở Hà Nội', 'Bánh mì Sài Gòn', 'Đi chợ', 'Tính tiền!', 'Món này có cay không?'],
    sentences: [
      'Phở là món ăn nổi tiếng nhất của Hà Nội.',
      'Bánh mì Sài Gòn có thịt, pa-tê, rau thơm và ớt.',
      'Người Việt thường ăn cơm với cá, rau và nước mắm.',
      'Chị ơi, cho em một tô bún bò Huế nhé!',
      'Món này hơi cay, bạn có ăn được không?',
      'Ở chợ Bến Thành có rất nhiều trái cây nhiệt đới.',
      'Tính tiền giúp em với, bao nhiêu tiền ạ?',
      'Buổi trưa, chúng tôi thường uống trà đá ở quán vỉa hè.',
    ],
    vocabulary: [
      word('phở', 'noun', 'fəː˧˩', 'pho, rice noodle soup'),
      word(
        'bánh mì',
        'noun',
        'ʔɓajŋ̟˧˥ mi˨˩',
        'bread; baguette sandwich',
        'mì from Chinese 麵; the baguette came with the French',
      ),
      word('cơm', 'noun', 'kəːm˧', 'cooked rice; meal'),
      word('cá', 'noun', 'kaː˧˥', 'fish'),
      word('rau', 'noun', 'zaw˧', 'vegetables, herbs'),
      word('nước mắm', 'noun', 'nɨək̚˧˥ mam˧˥', 'fish sauce'),
      word('bún', 'noun', 'ʔɓun˧˥', 'rice vermicelli'),
      word('cay', 'adjective', 'kaj˧', 'spicy'),
      word('ngon', 'adjective', 'ŋɔn˧', 'delicious'),
      word('chợ', 'noun', 't͡ɕəː˨ˀ˩', 'market'),
      word('trái cây', 'noun', 't͡ɕaːj˧˥ kəj˧', 'fruit'),
      word('tiền', 'noun', 'tiən˨˩', 'money', 'Sino-Vietnamese 錢'),
      word('ăn', 'verb', 'ʔan˧', 'to eat'),
      word('uống', 'verb', 'ʔuəŋ˧˥', 'to drink'),
      word('thịt', 'noun', 'tʰit̚˨ˀ˩', 'meat'),
      word('ớt', 'noun', 'ʔəːt̚˧˥', 'chili'),
    ],
  },
  {
    topic: 'family',
    titleVi: 'Gia đình',
    titleEn: 'Family',
    difficulty: [2, 4],
    objectives: [
      'Name family members',
      'Dùng đại từ xưng hô trong gia đình',
      'Talk about jobs',
      'Describe your hometown',
    ],
    lessonHeadlines: ['Gia đình tôi', 'Ông bà ở quê', 'Bố mẹ làm nghề gì?', 'Anh chị em', 'Về quê ăn Tết'],
    sentences: [
      'Gia đình tôi có năm người: bố, mẹ, anh trai, em gái và tôi.',
      'Ông bà tôi sống ở quê, gần một cánh đồng lúa.',
      'Anh trai tôi là bác sĩ ở bệnh viện Bạch Mai.',
      'Chúng tôi thường về quê thăm ông bà vào dịp Tết.',
      'Bố tôi rất thích đọc báo và uống trà vào buổi sáng.',
      'Mẹ tôi là giáo viên dạy toán ở một trường cấp hai.',
      'Em gái tôi mới tốt nghiệp đại học năm ngoái.',
    ],
    vocabulary: [
      word('gia đình', 'noun', 'zaː˧ ʔɗïŋ˨˩', 'family', 'Sino-Vietnamese 家庭'),
      word('bố', 'noun', 'ʔɓo˧˥', 'father'),
      word('mẹ', 'noun', 'mɛ˨ˀ˩', 'mother'),
      word('anh trai', 'noun', 'ʔajŋ̟˧ t͡ɕaːj˧', 'older brother'),
      word('em gái', 'noun', 'ʔɛm˧ ɣaːj˧˥', 'younger sister'),
      word('ông bà', 'noun', 'ʔəwŋ͡m˧ ʔɓaː˨˩', 'grandparents'),
      word('quê', 'noun', 'kwe˧', 'hometown, countryside'),
      word('bác sĩ', 'noun', 'ʔɓaːk̚˧˥ si˧ˀ˥', 'doctor', 'Sino-Vietnamese 博士'),
      word('bệnh viện', 'noun', 'ʔɓəjŋ̟˨ˀ˩ viən˨ˀ˩', 'hospital', 'Sino-Vietnamese 病院'),
      word('đọc', 'verb', 'ʔɗawk͡p̚˨ˀ˩', 'to read', 'Sino-Vietnamese 讀'),
      word('báo', 'noun', 'ʔɓaːw˧˥', 'newspaper', 'Sino-Vietnamese 報'),
      word('trà', 'noun', 't͡ɕaː˨˩', 'tea', 'Sino-Vietnamese 茶'),
      word('lúa', 'noun', 'luə˧˥', 'rice plant, paddy'),
      word('giáo viên', 'noun', 'zaːw˧˥ viən˧', 'teacher', 'Sino-Vietnamese 教員'),
    ],
  },
  {
    topic: 'travel',
    titleVi: 'Du lịch',
    titleEn: 'Travel',
    difficulty: [3, 6],
    objectives: ['Ask for directions', 'Book a hotel room', 'Mua vé tàu', 'Talk about places you visited'],
    lessonHeadlines: ['Nhà ga ở đâu?', 'Đặt phòng khách sạn', 'Đi tàu hỏa', 'Vịnh Hạ Long', 'Phố cổ Hội An'],
    sentences: [
      'Vịnh Hạ Long có hàng nghìn hòn đảo đá vôi.',
      'Chúng tôi đi tàu hỏa từ Hà Nội vào Huế mất khoảng mười hai tiếng.',
      'Phố cổ Hội An rất đẹp vào ban đêm với những chiếc đèn lồng.',
      'Xin lỗi, nhà ga ở đâu ạ?',
      'Tôi muốn đặt một phòng đôi ở khách sạn này cho hai đêm.',
      'Đà Lạt mát mẻ quanh năm và có nhiều hoa.',
      'Bạn nên đi taxi để tiết kiệm thời gian.',
      'Mùa hè năm nay gia đình tôi đi du lịch Phú Quốc.',
    ],
    vocabulary: [
      word('vịnh', 'noun', 'vïŋ˨ˀ˩', 'bay'),
      word('đảo', 'noun', 'ʔɗaːw˧˩', 'island', 'Sino-Vietnamese 島'),
      word('tàu hỏa', 'noun', 'taw˨˩ hwaː˧˩', 'train', 'hỏa is Sino-Vietnamese 火'),
      word('phố cổ', 'noun', 'fo˧˥ ko˧˩', 'old quarter', 'cổ is Sino-Vietnamese 古'),
      word('đèn lồng', 'noun', 'ʔɗɛn˨˩ ləwŋ͡m˨˩', 'lantern'),
      word('nhà ga', 'noun', 'ɲaː˨˩ ɣaː˧', 'railway station', 'ga from French gare'),
      word('phòng', 'noun', 'fawŋ͡m˨˩', 'room', 'Sino-Vietnamese 房'),
      word('đêm', 'noun', 'ʔɗem˧', 'night'),
      word('khách sạn', 'noun', 'xajk̟̚˧˥ saːn˨ˀ˩', 'hotel', 'Sino-Vietnamese 客棧'),
      word('thời gian', 'noun', 'tʰəːj˨˩ zaːn˧', 'time', 'Sino-Vietnamese 時間'),
      word('hoa', 'noun', 'hwaː˧', 'flower', 'Sino-Vietnamese 花'),
      word('mát mẻ', 'adjective', 'maːt̚˧˥ mɛ˧˩', 'cool, pleasantly fresh'),
      word('đặt', 'verb', 'ʔɗat̚˨ˀ˩', 'to book, to reserve'),
      word('du lịch', 'verb', 'zu˧ lïk̚˨ˀ˩', 'to travel', 'Sino-Vietnamese 遊歷'),
    ],
  },
  {
    topic: 'culture',
    titleVi: 'Văn hóa và lễ hội',
    titleEn: 'Culture and festivals',
    difficulty: [4, 7],
    objectives: [
      'Talk about Tết',
      'Hiểu phong tục truyền thống',
      'Describe a festival',
      'Understand everyday etiquette',
    ],
    lessonHeadlines: ['Tết Nguyên Đán', 'Áo dài', 'Múa rối nước', 'Tết Trung thu', 'Văn hóa cà phê'],
    sentences: [
      'Tết Nguyên Đán là ngày lễ quan trọng nhất của người Việt.',
      'Trẻ em được nhận lì xì trong dịp Tết.',
      'Áo dài là trang phục truyền thống của phụ nữ Việt Nam.',
      'Múa rối nước là một nghệ thuật dân gian độc đáo.',
      'Tết Trung thu, trẻ em rước đèn và ăn bánh trung thu.',
      'Người Việt rất coi trọng việc thờ cúng tổ tiên.',
      'Lễ hội chùa Hương kéo dài từ tháng Giêng đến tháng Ba âm lịch.',
      'Văn hóa cà phê là một phần của cuộc sống ở Việt Nam.',
    ],
    vocabulary: [
      word('Tết', 'noun', 'tet̚˧˥', 'Lunar New Year', 'Sino-Vietnamese 節'),
      word('lễ hội', 'noun', 'le˧ˀ˥ hoj˨ˀ˩', 'festival', 'Sino-Vietnamese 禮會'),
      word('lì xì', 'noun', 'li˨˩ si˨˩', 'lucky money', 'Cantonese 利是'),
      word('áo dài', 'noun', 'ʔaːw˧˥ zaːj˨˩', 'traditional long dress'),
      word('truyền thống', 'adjective', 't͡ɕwiən˨˩ tʰəwŋ͡m˧˥', 'traditional', 'Sino-Vietnamese 傳統'),
      word('phụ nữ', 'noun', 'fu˨ˀ˩ nɨ˧ˀ˥', 'woman', 'Sino-Vietnamese 婦女'),
      word('múa rối nước', 'noun', 'muə˧˥ zoj˧˥ nɨək̚˧˥', 'water puppetry'),
      word('nghệ thuật', 'noun', 'ŋe˨ˀ˩ tʰwət̚˨ˀ˩', 'art', 'Sino-Vietnamese 藝術'),
      word('trẻ em', 'noun', 't͡ɕɛ˧˩ ʔɛm˧', 'children'),
      word('tổ tiên', 'noun', 'to˧˩ tiən˧', 'ancestors', 'Sino-Vietnamese 祖先'),
      word('trung thu', 'noun', 't͡ɕuŋ͡m˧ tʰu˧', 'Mid-Autumn Festival', 'Sino-Vietnamese 中秋'),
      word('văn hóa', 'noun', 'van˧ hwaː˧˥', 'culture', 'Sino-Vietnamese 文化'),
    ],
  },
  {
    topic: 'business',
    titleVi: 'Tiếng Việt thương mại',
    titleEn: 'Business Vietnamese',
    difficulty: [5, 8],
    objectives: ['Run a meeting', 'Viết email lịch sự', 'Negotiate prices', 'Present your company'],
    lessonHeadlines: [
      'Giới thiệu công ty',
      'Cuộc họp đầu tuần',
      'Gửi báo cáo',
      'Hỏi giá sản phẩm',
      'Ký hợp đồng',
    ],
    sentences: [
      'Công ty chúng tôi có văn phòng ở Thành phố Hồ Chí Minh.',
      'Cuộc họp sẽ bắt đầu lúc chín giờ sáng thứ Hai.',
      'Anh vui lòng gửi báo cáo cho tôi trước thứ Sáu.',
      'Kinh tế Việt Nam phát triển nhanh trong những năm gần đây.',
      'Tôi rất vui được hợp tác với quý công ty.',
      'Xin cho tôi biết giá của sản phẩm này.',
      'Hai bên sẽ ký hợp đồng vào tuần sau.',
    ],
    vocabulary: [
      word('công ty', 'noun', 'kəwŋ͡m˧ ti˧', 'company', 'Sino-Vietnamese 公司'),
      word('văn phòng', 'noun', 'van˧ fawŋ͡m˨˩', 'office', 'Sino-Vietnamese 文房'),
      word('cuộc họp', 'noun', 'kuək̚˨ˀ˩ hɔp̚˨ˀ˩', 'meeting'),
      word('báo cáo', 'noun', 'ʔɓaːw˧˥ kaːw˧˥', 'report', 'Sino-Vietnamese 報告'),
      word('kinh tế', 'noun', 'kïŋ˧ te˧˥', 'economy', 'Sino-Vietnamese 經濟'),
      word('phát triển', 'verb', 'faːt̚˧˥ t͡ɕiən˧˩', 'to develop', 'Sino-Vietnamese 發展'),
      word('hợp tác', 'verb', 'həːp̚˨ˀ˩ taːk̚˧˥', 'to cooperate', 'Sino-Vietnamese 合作'),
      word('giá', 'noun', 'zaː˧˥', 'price', 'Sino-Vietnamese 價'),
      word('sản phẩm', 'noun', 'saːn˧˩ fəm˧˩', 'product', 'Sino-Vietnamese 產品'),
      word('gửi', 'verb', 'ɣɨj˧˩', 'to send'),
      word('bắt đầu', 'verb', 'ʔɓat̚˧˥ ʔɗəw˨˩', 'to begin'),
      word('hợp đồng', 'noun', 'həːp̚˨ˀ˩ ʔɗəwŋ͡m˨˩', 'contract', 'Sino-Vietnamese 合同'),
    ],
  },
];

export const SERIES: readonly SeriesOutline[] = [
  {
    title: 'Tiếng Việt cho người mới bắt đầu',
    description: 'Vietnamese for absolute beginners: greetings, family and your daily routine.',
    parts: [
      ['greetings', 5],
      ['family', 3],
      ['daily_life', 3],
    ],
  },
  {
    title: 'Ăn khắp Việt Nam',
    description: 'Eat your way from Hà Nội to Sài Gòn: order, taste and pay like a local.',
    parts: [['food', 5]],
  },
  {
    title: 'Du lịch Việt Nam',
    description: 'Everything you need for a first trip: stations, hotels, famous places.',
    parts: [
      ['travel', 5],
      ['food', 2],
    ],
  },
  {
    title: 'Cuộc sống hằng ngày',
    description: 'Everyday conversations at home and around town.',
    parts: [
      ['daily_life', 5],
      ['family', 5],
    ],
  },
  {
    title: 'Văn hóa Việt',
    description: 'Festivals, traditions and the stories behind them.',
    parts: [['culture', 5]],
  },
  {
    title: 'Tiếng Việt công sở',
    description: 'Meetings, reports and contracts for people working with Vietnamese companies.',
    parts: [['business', 5]],
  },
];

export const INSTRUCTORS = [
  { fullName: 'Nguyễn Thu Hà', username: 'co_thu_ha' },
  { fullName: 'Trần Minh Quân', username: 'thay_minh_quan' },
  { fullName: 'Lê Phương Anh', username: 'co_phuong_anh' },
] as const;
