-- Seed 004 (Duolingo-style language learning), its PostgreSQL DDL exactly as the seed gives it: it runs
-- as written on PostgreSQL 13+ (gen_random_uuid() is built in). The pack's own additions follow at the end.

-- Core Database Tables and Relationships

-- ================================
-- USER MANAGEMENT
-- ================================

-- Users table with authentication support
CREATE TABLE users (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email VARCHAR(255) UNIQUE NOT NULL,
    password_hash VARCHAR(255), -- NULL for OAuth-only users
    name VARCHAR(255) NOT NULL,
    avatar_url VARCHAR(500),
    is_email_verified BOOLEAN DEFAULT FALSE,
    email_verification_token VARCHAR(255),
    password_reset_token VARCHAR(255),
    password_reset_expires_at TIMESTAMPTZ,
    daily_xp_goal INTEGER DEFAULT 20 CHECK (daily_xp_goal IN (10, 20, 30, 50)),
    timezone VARCHAR(50) DEFAULT 'UTC',
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    deleted_at TIMESTAMPTZ -- For soft delete if needed
);

-- OAuth providers for social login
CREATE TABLE oauth_providers (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider VARCHAR(50) NOT NULL, -- 'google', 'tiktok', 'facebook'
    provider_user_id VARCHAR(255) NOT NULL,
    access_token VARCHAR(1000),
    refresh_token VARCHAR(1000),
    token_expires_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(provider, provider_user_id)
);

-- ================================
-- COURSE CONTENT STRUCTURE
-- ================================

-- Languages (e.g., Spanish, French, German)
CREATE TABLE languages (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    code VARCHAR(10) UNIQUE NOT NULL, -- 'es', 'fr', 'de'
    name VARCHAR(100) NOT NULL, -- 'Spanish', 'French', 'German'
    native_name VARCHAR(100), -- 'Español', 'Français', 'Deutsch'
    flag_url VARCHAR(500),
    is_active BOOLEAN DEFAULT TRUE,
    sort_order INTEGER DEFAULT 0,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Courses (e.g., Spanish for English speakers)
CREATE TABLE courses (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    from_language_id UUID NOT NULL REFERENCES languages(id),
    to_language_id UUID NOT NULL REFERENCES languages(id),
    name VARCHAR(255) NOT NULL,
    description TEXT,
    difficulty_level VARCHAR(20) DEFAULT 'beginner', -- 'beginner', 'intermediate', 'advanced'
    is_active BOOLEAN DEFAULT TRUE,
    sort_order INTEGER DEFAULT 0,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(from_language_id, to_language_id)
);

-- Sections (major divisions within courses, e.g., "Basic 1", "Greetings")
CREATE TABLE sections (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id UUID NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    sort_order INTEGER NOT NULL,
    cefr_level VARCHAR(10), -- 'A1', 'A2', 'B1', 'B2', 'C1', 'C2'
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(course_id, sort_order)
);

-- Units (individual learning units within sections)
CREATE TABLE units (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    section_id UUID NOT NULL REFERENCES sections(id) ON DELETE CASCADE,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    sort_order INTEGER NOT NULL,
    icon_url VARCHAR(500),
    color VARCHAR(7), -- Hex color code
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(section_id, sort_order)
);

-- Lessons (individual lessons within units)
CREATE TABLE lessons (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    unit_id UUID NOT NULL REFERENCES units(id) ON DELETE CASCADE,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    sort_order INTEGER NOT NULL,
    estimated_minutes INTEGER DEFAULT 5,
    xp_reward INTEGER DEFAULT 20,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(unit_id, sort_order)
);

-- Lesson prerequisites (defines lesson dependencies)
CREATE TABLE lesson_prerequisites (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    lesson_id UUID NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    prerequisite_lesson_id UUID NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(lesson_id, prerequisite_lesson_id),
    CHECK (lesson_id != prerequisite_lesson_id)
);

-- Exercise types (translation, multiple_choice, listening, etc.)
CREATE TABLE exercise_types (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(100) NOT NULL UNIQUE, -- 'translation', 'multiple_choice', 'listening'
    description TEXT,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW()
);

-- Exercises (individual practice items)
CREATE TABLE exercises (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    exercise_type_id UUID NOT NULL REFERENCES exercise_types(id),
    prompt TEXT NOT NULL, -- The question or instruction
    correct_answer TEXT NOT NULL, -- The correct answer
    alternative_answers JSONB, -- Alternative correct answers
    explanation TEXT, -- Explanation for the answer
    hint TEXT, -- Hint to help users
    difficulty_level INTEGER DEFAULT 1 CHECK (difficulty_level BETWEEN 1 AND 5),
    estimated_seconds INTEGER DEFAULT 30,
    audio_url VARCHAR(500), -- For listening exercises
    image_url VARCHAR(500), -- For visual exercises
    metadata JSONB, -- Additional exercise-specific data
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- Multiple choice options (for multiple choice exercises)
CREATE TABLE exercise_options (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    exercise_id UUID NOT NULL REFERENCES exercises(id) ON DELETE CASCADE,
    option_text TEXT NOT NULL,
    is_correct BOOLEAN DEFAULT FALSE,
    sort_order INTEGER NOT NULL,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(exercise_id, sort_order)
);

-- Lesson exercises (many-to-many relationship)
CREATE TABLE lesson_exercises (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    lesson_id UUID NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    exercise_id UUID NOT NULL REFERENCES exercises(id) ON DELETE CASCADE,
    sort_order INTEGER NOT NULL,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(lesson_id, exercise_id),
    UNIQUE(lesson_id, sort_order)
);

-- ================================
-- AUDIO & MEDIA MANAGEMENT
-- ================================

-- Audio files for exercises
CREATE TABLE audio_files (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    exercise_id UUID NOT NULL REFERENCES exercises(id) ON DELETE CASCADE,
    file_path VARCHAR(500) NOT NULL,
    file_format VARCHAR(10) NOT NULL, -- 'mp3', 'wav', 'ogg'
    quality_level VARCHAR(20) DEFAULT 'medium', -- 'low', 'medium', 'high'
    file_size_bytes BIGINT,
    duration_seconds INTEGER,
    sample_rate INTEGER,
    bit_rate INTEGER,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- ================================
-- USER PROGRESS & GAMIFICATION
-- ================================

-- User course enrollment
CREATE TABLE user_courses (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    course_id UUID NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
    enrolled_at TIMESTAMPTZ DEFAULT NOW(),
    last_active_at TIMESTAMPTZ DEFAULT NOW(),
    total_xp INTEGER DEFAULT 0,
    current_streak INTEGER DEFAULT 0,
    longest_streak INTEGER DEFAULT 0,
    hearts INTEGER DEFAULT 5 CHECK (hearts BETWEEN 0 AND 5),
    hearts_last_full_at TIMESTAMPTZ,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(user_id, course_id)
);

-- User lesson progress
CREATE TABLE user_lesson_progress (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    lesson_id UUID NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    status VARCHAR(20) DEFAULT 'locked', -- 'locked', 'available', 'in_progress', 'completed'
    completion_count INTEGER DEFAULT 0, -- Number of times completed
    best_score INTEGER DEFAULT 0, -- Best percentage score
    total_attempts INTEGER DEFAULT 0,
    total_time_seconds INTEGER DEFAULT 0,
    xp_earned INTEGER DEFAULT 0,
    hearts_lost INTEGER DEFAULT 0,
    first_completed_at TIMESTAMPTZ,
    last_completed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(user_id, lesson_id)
);

-- User exercise interactions (detailed tracking)
CREATE TABLE user_exercise_interactions (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    exercise_id UUID NOT NULL REFERENCES exercises(id) ON DELETE CASCADE,
    lesson_id UUID NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    user_answer TEXT,
    is_correct BOOLEAN NOT NULL,
    attempt_number INTEGER DEFAULT 1,
    time_spent_seconds INTEGER DEFAULT 0,
    hints_used INTEGER DEFAULT 0,
    hearts_lost INTEGER DEFAULT 0,
    xp_earned INTEGER DEFAULT 0,
    interaction_at TIMESTAMPTZ DEFAULT NOW(),
    created_at TIMESTAMPTZ DEFAULT NOW()
);

-- Daily XP tracking for streaks
CREATE TABLE user_daily_xp (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    date DATE NOT NULL,
    xp_earned INTEGER DEFAULT 0,
    goal_met BOOLEAN DEFAULT FALSE,
    activities_completed INTEGER DEFAULT 0,
    time_spent_seconds INTEGER DEFAULT 0,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(user_id, date)
);

-- Hearts regeneration tracking
CREATE TABLE user_hearts_log (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    action VARCHAR(20) NOT NULL, -- 'lost', 'gained', 'regenerated'
    hearts_before INTEGER NOT NULL,
    hearts_after INTEGER NOT NULL,
    reason VARCHAR(100), -- 'incorrect_answer', 'time_regeneration', 'practice_completed'
    created_at TIMESTAMPTZ DEFAULT NOW()
);

-- ================================
-- ACHIEVEMENTS & REWARDS
-- ================================

-- Achievement definitions
CREATE TABLE achievements (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name VARCHAR(255) NOT NULL UNIQUE,
    description TEXT NOT NULL,
    icon_url VARCHAR(500),
    condition_type VARCHAR(50) NOT NULL, -- 'lesson_count', 'streak_days', 'xp_total', 'perfect_lessons'
    condition_value INTEGER NOT NULL,
    xp_reward INTEGER DEFAULT 0,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    updated_at TIMESTAMPTZ DEFAULT NOW()
);

-- User achievements
CREATE TABLE user_achievements (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    achievement_id UUID NOT NULL REFERENCES achievements(id) ON DELETE CASCADE,
    earned_at TIMESTAMPTZ DEFAULT NOW(),
    created_at TIMESTAMPTZ DEFAULT NOW(),
    UNIQUE(user_id, achievement_id)
);

-- ================================
-- AUDIT & ANALYTICS
-- ================================

-- User activity audit log
CREATE TABLE user_activity_log (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    activity_type VARCHAR(100) NOT NULL, -- 'login', 'lesson_start', 'lesson_complete', 'exercise_answer'
    activity_data JSONB, -- Flexible data storage for activity details
    ip_address INET,
    user_agent TEXT,
    created_at TIMESTAMPTZ DEFAULT NOW()
);

-- System audit log
CREATE TABLE system_audit_log (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    admin_user_id UUID REFERENCES users(id),
    action VARCHAR(100) NOT NULL, -- 'user_delete', 'course_update', 'exercise_create'
    table_name VARCHAR(100),
    record_id UUID,
    old_values JSONB,
    new_values JSONB,
    ip_address INET,
    created_at TIMESTAMPTZ DEFAULT NOW()
);

-- ================================
-- INDEXES FOR PERFORMANCE
-- ================================

-- User table indexes
CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_created_at ON users(created_at);
CREATE INDEX idx_users_deleted_at ON users(deleted_at) WHERE deleted_at IS NOT NULL;

-- OAuth providers indexes
CREATE INDEX idx_oauth_providers_user_id ON oauth_providers(user_id);
CREATE INDEX idx_oauth_providers_provider_user_id ON oauth_providers(provider, provider_user_id);

-- Course structure indexes
CREATE INDEX idx_courses_from_language ON courses(from_language_id);
CREATE INDEX idx_courses_to_language ON courses(to_language_id);
CREATE INDEX idx_sections_course_id ON sections(course_id);
CREATE INDEX idx_sections_sort_order ON sections(course_id, sort_order);
CREATE INDEX idx_units_section_id ON units(section_id);
CREATE INDEX idx_units_sort_order ON units(section_id, sort_order);
CREATE INDEX idx_lessons_unit_id ON lessons(unit_id);
CREATE INDEX idx_lessons_sort_order ON lessons(unit_id, sort_order);

-- Exercise indexes
CREATE INDEX idx_exercises_type ON exercises(exercise_type_id);
CREATE INDEX idx_exercises_difficulty ON exercises(difficulty_level);
CREATE INDEX idx_lesson_exercises_lesson_id ON lesson_exercises(lesson_id);
CREATE INDEX idx_lesson_exercises_exercise_id ON lesson_exercises(exercise_id);
CREATE INDEX idx_exercise_options_exercise_id ON exercise_options(exercise_id);

-- Audio files indexes
CREATE INDEX idx_audio_files_exercise_id ON audio_files(exercise_id);
CREATE INDEX idx_audio_files_quality ON audio_files(quality_level);

-- User progress indexes
CREATE INDEX idx_user_courses_user_id ON user_courses(user_id);
CREATE INDEX idx_user_courses_course_id ON user_courses(course_id);
CREATE INDEX idx_user_courses_last_active ON user_courses(last_active_at);
CREATE INDEX idx_user_lesson_progress_user_id ON user_lesson_progress(user_id);
CREATE INDEX idx_user_lesson_progress_lesson_id ON user_lesson_progress(lesson_id);
CREATE INDEX idx_user_lesson_progress_status ON user_lesson_progress(status);

-- User interactions indexes
CREATE INDEX idx_user_exercise_interactions_user_id ON user_exercise_interactions(user_id);
CREATE INDEX idx_user_exercise_interactions_exercise_id ON user_exercise_interactions(exercise_id);
CREATE INDEX idx_user_exercise_interactions_lesson_id ON user_exercise_interactions(lesson_id);
CREATE INDEX idx_user_exercise_interactions_date ON user_exercise_interactions(interaction_at);

-- Daily XP indexes
CREATE INDEX idx_user_daily_xp_user_id ON user_daily_xp(user_id);
CREATE INDEX idx_user_daily_xp_date ON user_daily_xp(date);
CREATE INDEX idx_user_daily_xp_user_date ON user_daily_xp(user_id, date);

-- Hearts log indexes
CREATE INDEX idx_user_hearts_log_user_id ON user_hearts_log(user_id);
CREATE INDEX idx_user_hearts_log_created_at ON user_hearts_log(created_at);

-- Achievements indexes
CREATE INDEX idx_user_achievements_user_id ON user_achievements(user_id);
CREATE INDEX idx_user_achievements_achievement_id ON user_achievements(achievement_id);

-- Audit log indexes
CREATE INDEX idx_user_activity_log_user_id ON user_activity_log(user_id);
CREATE INDEX idx_user_activity_log_activity_type ON user_activity_log(activity_type);
CREATE INDEX idx_user_activity_log_created_at ON user_activity_log(created_at);
CREATE INDEX idx_system_audit_log_admin_user_id ON system_audit_log(admin_user_id);
CREATE INDEX idx_system_audit_log_table_name ON system_audit_log(table_name);
CREATE INDEX idx_system_audit_log_created_at ON system_audit_log(created_at);

-- ================================
-- TRIGGERS FOR AUTOMATION
-- ================================

-- Update timestamps trigger function
CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$ language 'plpgsql';

-- Apply updated_at trigger to relevant tables
CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_oauth_providers_updated_at BEFORE UPDATE ON oauth_providers
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_languages_updated_at BEFORE UPDATE ON languages
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_courses_updated_at BEFORE UPDATE ON courses
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_sections_updated_at BEFORE UPDATE ON sections
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_units_updated_at BEFORE UPDATE ON units
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_lessons_updated_at BEFORE UPDATE ON lessons
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_exercises_updated_at BEFORE UPDATE ON exercises
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_audio_files_updated_at BEFORE UPDATE ON audio_files
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_user_courses_updated_at BEFORE UPDATE ON user_courses
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_user_lesson_progress_updated_at BEFORE UPDATE ON user_lesson_progress
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_user_daily_xp_updated_at BEFORE UPDATE ON user_daily_xp
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

CREATE TRIGGER update_achievements_updated_at BEFORE UPDATE ON achievements
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- ================================
-- INITIAL DATA SETUP
-- ================================

-- Insert initial languages
INSERT INTO languages (code, name, native_name, is_active, sort_order) VALUES
('en', 'English', 'English', true, 1),
('es', 'Spanish', 'Español', true, 2),
('fr', 'French', 'Français', true, 3),
('de', 'German', 'Deutsch', true, 4),
('it', 'Italian', 'Italiano', true, 5),
('pt', 'Portuguese', 'Português', true, 6);

-- Insert initial exercise types
INSERT INTO exercise_types (name, description, is_active) VALUES
('translation', 'Translate text from one language to another', true),
('multiple_choice', 'Choose the correct answer from multiple options', true),
('listening', 'Listen to audio and provide the correct response', true),
('speaking', 'Speak the correct pronunciation', false),
('writing', 'Write the correct text', false);

-- Insert initial achievements
INSERT INTO achievements (name, description, condition_type, condition_value, xp_reward, is_active) VALUES
('First Lesson', 'Complete your first lesson', 'lesson_count', 1, 50, true),
('Week Warrior', 'Maintain a 7-day streak', 'streak_days', 7, 100, true),
('Perfect Practice', 'Complete a lesson with no mistakes', 'perfect_lessons', 1, 75, true),
('XP Collector', 'Earn 50 total XP', 'xp_total', 50, 25, true),
('Skill Master', 'Complete your first skill', 'skills_completed', 1, 200, true);

-- ================================
-- PACK ADDITIONS (not in the seed)
-- ================================

-- The seed has no experiments: the product's assignment service keeps its configured splits and
-- each user's first exposure here, so that the A/B marts have exposures to read.
CREATE TABLE experiment_variants (
    experiment VARCHAR(100) NOT NULL,
    variant VARCHAR(50) NOT NULL,
    configured_share DOUBLE PRECISION NOT NULL CHECK (configured_share > 0 AND configured_share <= 1),
    created_at TIMESTAMPTZ DEFAULT NOW(),
    PRIMARY KEY (experiment, variant)
);

CREATE TABLE experiment_exposures (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    experiment VARCHAR(100) NOT NULL,
    variant VARCHAR(50) NOT NULL,
    exposed_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, experiment),
    FOREIGN KEY (experiment, variant) REFERENCES experiment_variants(experiment, variant)
);
