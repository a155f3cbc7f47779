-- Postgres schema of the "learning" source pack: the User service, the Lesson service, and the
-- words/paragraphs tables of the Content service of a Vietnamese-learning platform, copied from
-- the seed design (shared/seeds/000_2a86930ce8bd1e7a.txt) into one database, schema public.

-- ---------------------------------------------------------------- User service (seed section 1)

-- Users table - Main user entity
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username VARCHAR(50) UNIQUE NOT NULL,
    email VARCHAR(255) UNIQUE,
    full_name VARCHAR(255),
    avatar_url TEXT,
    phone VARCHAR(20),
    email_verified BOOLEAN DEFAULT FALSE,
    status VARCHAR(20) DEFAULT 'active', -- active, inactive, suspended
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- User profiles - Extended user information
CREATE TABLE user_profiles (
    user_id UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    gender VARCHAR(10),
    birthday DATE,
    bio TEXT,
    country_code VARCHAR(3),
    timezone VARCHAR(50),
    native_language VARCHAR(10),
    target_languages VARCHAR(10)[] DEFAULT ARRAY['vi'],
    proficiency_level INTEGER CHECK (proficiency_level BETWEEN 1 AND 10),
    learning_goals TEXT[],
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- User settings
CREATE TABLE user_settings (
    user_id UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    language_preference VARCHAR(10) DEFAULT 'en',
    theme_mode VARCHAR(10) DEFAULT 'light',
    learning_mode VARCHAR(20) DEFAULT 'standard', -- standard, intensive, casual
    notification_enabled BOOLEAN DEFAULT TRUE,
    email_notifications BOOLEAN DEFAULT TRUE,
    push_notifications BOOLEAN DEFAULT TRUE,
    sound_enabled BOOLEAN DEFAULT TRUE,
    auto_play_audio BOOLEAN DEFAULT FALSE,
    daily_goal_minutes INTEGER DEFAULT 30,
    reminder_time TIME DEFAULT '19:00:00',
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- User authentication & security
CREATE TABLE user_auth (
    user_id UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    salt TEXT NOT NULL,
    last_password_change TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    failed_login_attempts INTEGER DEFAULT 0,
    locked_until TIMESTAMP,
    two_factor_enabled BOOLEAN DEFAULT FALSE,
    two_factor_secret TEXT,
    recovery_codes TEXT[],
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- Social login providers
CREATE TABLE user_social_logins (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    provider VARCHAR(50) NOT NULL, -- google, facebook, apple
    provider_user_id TEXT NOT NULL,
    provider_email TEXT,
    access_token_hash TEXT,
    refresh_token_hash TEXT,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(provider, provider_user_id)
);

-- User sessions
CREATE TABLE user_sessions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    session_token TEXT UNIQUE NOT NULL,
    device_info JSONB,
    ip_address INET,
    user_agent TEXT,
    is_active BOOLEAN DEFAULT TRUE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- User learning streaks
CREATE TABLE user_streaks (
    user_id UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    current_streak INTEGER DEFAULT 0,
    longest_streak INTEGER DEFAULT 0,
    last_activity_date DATE,
    streak_freeze_count INTEGER DEFAULT 0, -- số lần được "đóng băng" streak
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- User achievements/badges
CREATE TABLE user_achievements (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    achievement_type VARCHAR(50) NOT NULL, -- first_lesson, 7_day_streak, 100_words, etc.
    achievement_data JSONB, -- metadata about the achievement
    earned_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(user_id, achievement_type)
);

-- Indexes
CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_username ON users(username);
CREATE INDEX idx_users_status ON users(status);
CREATE INDEX idx_user_sessions_token ON user_sessions(session_token);
CREATE INDEX idx_user_sessions_user_active ON user_sessions(user_id, is_active);
CREATE INDEX idx_user_social_provider ON user_social_logins(provider, provider_user_id);

-- ------------------------------------------------- Content service, words and paragraphs (seed section 2)

-- Words dictionary - Main vocabulary database
CREATE TABLE words (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    text TEXT NOT NULL,
    language_code VARCHAR(10) NOT NULL,
    part_of_speech VARCHAR(50), -- noun, verb, adjective, etc.
    phonetic TEXT, -- IPA notation
    difficulty_level INTEGER CHECK (difficulty_level BETWEEN 1 AND 10),
    frequency_rank INTEGER, -- từ phổ biến thứ mấy
    is_common BOOLEAN DEFAULT FALSE,
    etymology TEXT,
    related_words UUID[], -- array of word IDs
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(text, language_code)
);

-- Paragraphs - Reading content
CREATE TABLE paragraphs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    title TEXT,
    content TEXT NOT NULL,
    content_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED,
    language_code VARCHAR(10) NOT NULL,
    difficulty_level INTEGER CHECK (difficulty_level BETWEEN 1 AND 10),
    topic_category VARCHAR(50), -- daily_life, business, travel, etc.
    estimated_read_time INTEGER, -- seconds
    word_count INTEGER,
    audio_url TEXT,
    author VARCHAR(255),
    source VARCHAR(255),
    is_published BOOLEAN DEFAULT FALSE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- Indexes (those of words and paragraphs)
CREATE INDEX idx_words_text_lang ON words(text, language_code);
CREATE INDEX idx_words_language ON words(language_code);
CREATE INDEX idx_words_difficulty ON words(difficulty_level);
CREATE INDEX idx_words_frequency ON words(frequency_rank);
CREATE INDEX idx_paragraphs_language ON paragraphs(language_code);
CREATE INDEX idx_paragraphs_difficulty ON paragraphs(difficulty_level);
CREATE INDEX idx_paragraphs_topic ON paragraphs(topic_category);
CREATE INDEX idx_paragraphs_content_vector ON paragraphs USING GIN(content_vector);

-- ------------------------------------------------------------- Lesson service (seed section 3)

-- Lessons - Main lesson structure
CREATE TABLE lessons (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    title VARCHAR(255) NOT NULL,
    description TEXT,
    language_code VARCHAR(10) NOT NULL DEFAULT 'vi',
    target_language VARCHAR(10) NOT NULL DEFAULT 'en', -- ngôn ngữ người học
    difficulty_level INTEGER CHECK (difficulty_level BETWEEN 1 AND 10),
    estimated_duration INTEGER, -- minutes
    lesson_type VARCHAR(30) DEFAULT 'reading', -- reading, listening, speaking, mixed
    topic_category VARCHAR(50),
    prerequisite_lessons UUID[],
    learning_objectives TEXT[],
    thumbnail_url TEXT,
    is_published BOOLEAN DEFAULT FALSE,
    is_premium BOOLEAN DEFAULT FALSE,
    view_count INTEGER DEFAULT 0,
    rating_average DECIMAL(3,2) DEFAULT 0,
    rating_count INTEGER DEFAULT 0,
    created_by UUID, -- instructor/admin user_id
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- Lesson content - Paragraphs in lessons with ordering
CREATE TABLE lesson_paragraphs (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    lesson_id UUID REFERENCES lessons(id) ON DELETE CASCADE,
    paragraph_id UUID NOT NULL, -- reference to content service
    position INTEGER NOT NULL,
    is_required BOOLEAN DEFAULT TRUE,
    instruction_text TEXT, -- hướng dẫn cho đoạn này
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(lesson_id, paragraph_id),
    UNIQUE(lesson_id, position)
);

-- Lesson exercises/activities
CREATE TABLE lesson_activities (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    lesson_id UUID REFERENCES lessons(id) ON DELETE CASCADE,
    activity_type VARCHAR(30) NOT NULL, -- quiz, fill_blank, match, speaking, etc.
    title VARCHAR(255),
    instruction TEXT,
    content JSONB NOT NULL, -- exercise content/questions
    position INTEGER,
    is_required BOOLEAN DEFAULT TRUE,
    points INTEGER DEFAULT 10,
    time_limit INTEGER, -- seconds, null = no limit
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- User lesson progress
CREATE TABLE user_lesson_progress (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL, -- from user service
    lesson_id UUID REFERENCES lessons(id) ON DELETE CASCADE,
    status VARCHAR(20) DEFAULT 'not_started', -- not_started, in_progress, completed, failed
    progress_percent INTEGER DEFAULT 0 CHECK (progress_percent >= 0 AND progress_percent <= 100),
    current_paragraph_id UUID,
    completed_paragraphs UUID[] DEFAULT '{}',
    completed_activities UUID[] DEFAULT '{}',
    total_time_spent INTEGER DEFAULT 0, -- seconds
    score INTEGER DEFAULT 0,
    max_score INTEGER DEFAULT 0,
    attempts_count INTEGER DEFAULT 0,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    last_accessed_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(user_id, lesson_id)
);

-- User activity results
CREATE TABLE user_activity_results (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL,
    lesson_id UUID REFERENCES lessons(id) ON DELETE CASCADE,
    activity_id UUID REFERENCES lesson_activities(id) ON DELETE CASCADE,
    attempt_number INTEGER DEFAULT 1,
    user_answers JSONB, -- user's responses
    correct_answers JSONB, -- correct responses for reference
    score INTEGER DEFAULT 0,
    max_score INTEGER DEFAULT 0,
    time_taken INTEGER, -- seconds
    is_passed BOOLEAN DEFAULT FALSE,
    feedback TEXT,
    completed_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- Lesson series/courses
CREATE TABLE lesson_series (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    title VARCHAR(255) NOT NULL,
    description TEXT,
    language_code VARCHAR(10) NOT NULL,
    target_language VARCHAR(10) NOT NULL,
    difficulty_level INTEGER CHECK (difficulty_level BETWEEN 1 AND 10),
    total_lessons INTEGER DEFAULT 0,
    estimated_duration INTEGER, -- total minutes
    thumbnail_url TEXT,
    is_published BOOLEAN DEFAULT FALSE,
    is_premium BOOLEAN DEFAULT FALSE,
    created_by UUID,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

-- Lessons in series
CREATE TABLE series_lessons (
    series_id UUID REFERENCES lesson_series(id) ON DELETE CASCADE,
    lesson_id UUID REFERENCES lessons(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    is_optional BOOLEAN DEFAULT FALSE,
    unlock_criteria JSONB, -- conditions to unlock this lesson
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (series_id, lesson_id),
    UNIQUE(series_id, position)
);

-- User series progress
CREATE TABLE user_series_progress (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL,
    series_id UUID REFERENCES lesson_series(id) ON DELETE CASCADE,
    status VARCHAR(20) DEFAULT 'not_started',
    progress_percent INTEGER DEFAULT 0,
    current_lesson_id UUID,
    completed_lessons UUID[] DEFAULT '{}',
    total_time_spent INTEGER DEFAULT 0,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    last_accessed_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(user_id, series_id)
);

-- Lesson reviews/ratings
CREATE TABLE lesson_reviews (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL,
    lesson_id UUID REFERENCES lessons(id) ON DELETE CASCADE,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    review_text TEXT,
    is_public BOOLEAN DEFAULT TRUE,
    helpful_count INTEGER DEFAULT 0,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    UNIQUE(user_id, lesson_id)
);

-- User bookmarks
CREATE TABLE user_lesson_bookmarks (
    user_id UUID NOT NULL,
    lesson_id UUID REFERENCES lessons(id) ON DELETE CASCADE,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (user_id, lesson_id)
);

CREATE TABLE user_word_bookmarks (
    user_id UUID NOT NULL,
    word_id UUID NOT NULL, -- from content service
    lesson_context_id UUID REFERENCES lessons(id), -- optional: where they bookmarked it
    notes TEXT, -- user's personal notes
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (user_id, word_id)
);

-- Indexes
CREATE INDEX idx_lessons_language ON lessons(language_code);
CREATE INDEX idx_lessons_difficulty ON lessons(difficulty_level);
CREATE INDEX idx_lessons_published ON lessons(is_published);
CREATE INDEX idx_lessons_premium ON lessons(is_premium);
CREATE INDEX idx_lesson_paragraphs_lesson ON lesson_paragraphs(lesson_id);
CREATE INDEX idx_lesson_paragraphs_position ON lesson_paragraphs(lesson_id, position);
CREATE INDEX idx_user_lesson_progress_user ON user_lesson_progress(user_id);
CREATE INDEX idx_user_lesson_progress_status ON user_lesson_progress(status);
CREATE INDEX idx_user_activity_results_user_lesson ON user_activity_results(user_id, lesson_id);
CREATE INDEX idx_series_lessons_series ON series_lessons(series_id, position);
CREATE INDEX idx_lesson_reviews_lesson ON lesson_reviews(lesson_id);
