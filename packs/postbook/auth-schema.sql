-- PostBook Auth service (seed 001, AuthServiceDB): 5 tables, their indexes, 6 helper functions,
-- 7 stored procedures and 2 triggers, as the seed specifies them. Where the seed's definition does
-- not run as written it is fixed minimally; each fix is marked `-- FIX:` and listed in the README.

CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- Table 1: users
CREATE TABLE users (
    user_id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    username VARCHAR(50) NOT NULL UNIQUE CHECK (length(username) >= 3),
    email VARCHAR(255) NOT NULL UNIQUE,
    email_normalized VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    first_name VARCHAR(100) NOT NULL,
    last_name VARCHAR(100) NOT NULL,
    phone_number VARCHAR(20),
    is_email_verified BOOLEAN DEFAULT FALSE,
    is_phone_verified BOOLEAN DEFAULT FALSE,
    email_verified_at TIMESTAMP,
    phone_verified_at TIMESTAMP,
    profile_picture_url TEXT,
    role VARCHAR(20) DEFAULT 'User' CHECK (role IN ('User', 'Admin', 'Moderator')),
    account_status VARCHAR(20) DEFAULT 'Active' CHECK (account_status IN ('Active', 'Inactive', 'Suspended', 'Deleted')),
    last_login_at TIMESTAMP,
    failed_login_attempts INTEGER DEFAULT 0,
    account_locked_until TIMESTAMP,
    password_changed_at TIMESTAMP,
    is_deleted BOOLEAN DEFAULT FALSE,
    deleted_at TIMESTAMP,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    -- The seed's "Constraints" prose, as CHECKs (the email format is the trigger's job).
    CONSTRAINT users_username_format CHECK (username ~ '^[A-Za-z0-9_]+$'),
    CONSTRAINT users_password_hash_length CHECK (length(password_hash) >= 60)
);
CREATE INDEX idx_users_email_normalized ON users (email_normalized);
CREATE INDEX idx_users_active ON users (is_deleted, account_status);
CREATE INDEX idx_users_created_at ON users (created_at DESC);
CREATE INDEX idx_users_last_login_at ON users (last_login_at DESC);

-- Table 2: user_sessions
CREATE TABLE user_sessions (
    session_id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    refresh_token VARCHAR(500) NOT NULL UNIQUE,
    refresh_token_hash VARCHAR(255) NOT NULL,
    device_type VARCHAR(50),
    device_info TEXT,
    ip_address VARCHAR(45),
    location VARCHAR(255),
    user_agent TEXT,
    is_active BOOLEAN DEFAULT TRUE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    last_activity_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_user_sessions_user_active ON user_sessions (user_id, is_active);
CREATE INDEX idx_user_sessions_token_hash ON user_sessions (refresh_token_hash);
CREATE INDEX idx_user_sessions_expires_at ON user_sessions (expires_at);
CREATE INDEX idx_user_sessions_created_at ON user_sessions (created_at DESC);

-- Table 3: verification_codes
CREATE TABLE verification_codes (
    verification_id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    code VARCHAR(10) NOT NULL,
    code_hash VARCHAR(255) NOT NULL,
    code_type VARCHAR(20) NOT NULL CHECK (code_type IN ('Email', 'Phone', 'PasswordReset')),
    is_used BOOLEAN DEFAULT FALSE,
    used_at TIMESTAMP,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    attempts INTEGER DEFAULT 0
);
CREATE INDEX idx_verification_codes_lookup ON verification_codes (user_id, code_type, is_used);
CREATE INDEX idx_verification_codes_hash ON verification_codes (code_hash);
CREATE INDEX idx_verification_codes_expires_at ON verification_codes (expires_at);
CREATE INDEX idx_verification_codes_created_at ON verification_codes (created_at DESC);

-- Table 4: user_login_history
CREATE TABLE user_login_history (
    login_id BIGSERIAL PRIMARY KEY,
    user_id UUID REFERENCES users (user_id) ON DELETE SET NULL,
    login_identifier VARCHAR(255) NOT NULL,
    login_status VARCHAR(20) NOT NULL CHECK (login_status IN ('Success', 'Failed', 'Locked', 'Unverified')),
    failure_reason VARCHAR(255),
    device_type VARCHAR(50),
    device_info TEXT,
    ip_address VARCHAR(45) NOT NULL,
    location VARCHAR(255),
    user_agent TEXT,
    login_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_login_history_user ON user_login_history (user_id, login_at DESC);
CREATE INDEX idx_login_history_ip ON user_login_history (ip_address, login_at DESC);
CREATE INDEX idx_login_history_status ON user_login_history (login_status, login_at DESC);
CREATE INDEX idx_login_history_login_at ON user_login_history (login_at DESC);

-- Table 5: password_reset_tokens
CREATE TABLE password_reset_tokens (
    token_id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
    user_id UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    token VARCHAR(500) NOT NULL UNIQUE,
    token_hash VARCHAR(255) NOT NULL,
    is_used BOOLEAN DEFAULT FALSE,
    used_at TIMESTAMP,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    ip_address VARCHAR(45)
);
CREATE INDEX idx_password_reset_tokens_hash ON password_reset_tokens (token_hash);
CREATE INDEX idx_password_reset_tokens_lookup ON password_reset_tokens (user_id, is_used, expires_at);
CREATE INDEX idx_password_reset_tokens_expires_at ON password_reset_tokens (expires_at);

-- Function 1: email_exists
CREATE OR REPLACE FUNCTION email_exists(p_email VARCHAR)
RETURNS BOOLEAN AS $$
    SELECT EXISTS (SELECT 1 FROM users WHERE email_normalized = LOWER(p_email));
$$ LANGUAGE sql STABLE;

-- Function 2: username_exists
CREATE OR REPLACE FUNCTION username_exists(p_username VARCHAR)
RETURNS BOOLEAN AS $$
    SELECT EXISTS (SELECT 1 FROM users WHERE LOWER(username) = LOWER(p_username));
$$ LANGUAGE sql STABLE;

-- Function 3: get_user_by_login
-- FIX: written in SQL, not PL/pgSQL: the seed's RETURNS TABLE names its columns user_id, username,
-- email… and in PL/pgSQL those output variables make `WHERE username = …` an ambiguous reference.
CREATE OR REPLACE FUNCTION get_user_by_login(p_login_identifier VARCHAR)
RETURNS TABLE(user_id UUID, username VARCHAR, email VARCHAR, password_hash VARCHAR, is_email_verified BOOLEAN,
              account_status VARCHAR, failed_login_attempts INTEGER, account_locked_until TIMESTAMP) AS $$
    SELECT u.user_id, u.username, u.email, u.password_hash, u.is_email_verified, u.account_status,
           u.failed_login_attempts, u.account_locked_until
    FROM users u
    WHERE u.email = p_login_identifier OR u.username = p_login_identifier;
$$ LANGUAGE sql STABLE;

-- Function 4: generate_verification_code
CREATE OR REPLACE FUNCTION generate_verification_code()
RETURNS VARCHAR(6) AS $$
DECLARE
    v_code VARCHAR(6);
BEGIN
    LOOP
        v_code := (100000 + floor(random() * 900000))::INTEGER::TEXT;
        EXIT WHEN NOT EXISTS (SELECT 1 FROM verification_codes WHERE code = v_code AND is_used = FALSE);
    END LOOP;
    RETURN v_code;
END;
$$ LANGUAGE plpgsql;

-- Function 5: cleanup_old_data
CREATE OR REPLACE FUNCTION cleanup_old_data()
RETURNS INTEGER AS $$
DECLARE
    v_total INTEGER := 0;
    v_count INTEGER;
BEGIN
    DELETE FROM user_sessions WHERE expires_at < CURRENT_TIMESTAMP;
    GET DIAGNOSTICS v_count = ROW_COUNT; v_total := v_total + v_count;
    DELETE FROM verification_codes WHERE expires_at < CURRENT_TIMESTAMP AND is_used = FALSE;
    GET DIAGNOSTICS v_count = ROW_COUNT; v_total := v_total + v_count;
    DELETE FROM password_reset_tokens WHERE expires_at < CURRENT_TIMESTAMP AND is_used = FALSE;
    GET DIAGNOSTICS v_count = ROW_COUNT; v_total := v_total + v_count;
    DELETE FROM user_login_history WHERE login_at < CURRENT_TIMESTAMP - INTERVAL '90 days';
    GET DIAGNOSTICS v_count = ROW_COUNT; v_total := v_total + v_count;
    RETURN v_total;
END;
$$ LANGUAGE plpgsql;

-- Function 6: get_user_stats
CREATE OR REPLACE FUNCTION get_user_stats(p_user_id UUID)
RETURNS JSON AS $$
    SELECT json_build_object(
        'userId', u.user_id,
        'username', u.username,
        'email', u.email,
        'accountStatus', u.account_status,
        'createdAt', u.created_at,
        'activeSessions', (SELECT count(*) FROM user_sessions s WHERE s.user_id = u.user_id AND s.is_active),
        'lastLoginAt', (SELECT max(h.login_at) FROM user_login_history h
                        WHERE h.user_id = u.user_id AND h.login_status = 'Success'),
        'totalLogins', (SELECT count(*) FROM user_login_history h
                        WHERE h.user_id = u.user_id AND h.login_status = 'Success'))
    FROM users u WHERE u.user_id = p_user_id;
$$ LANGUAGE sql STABLE;

-- Procedure 1: create_user
-- FIX: the seed's BEGIN TRANSACTION / COMMIT / ROLLBACK are not PL/pgSQL (and a procedure with
-- OUT parameters runs inside its caller's transaction); the body is atomic, a failure is reported
-- in p_error and leaves nothing behind (an EXCEPTION block is a subtransaction).
-- FIX: no DEFAULT NULL on p_phone_number: Postgres refuses a procedure's OUT parameters after a
-- parameter with a default ("procedure OUT parameters cannot appear after one with a default
-- value"), so callers pass NULL for a missing phone number.
CREATE OR REPLACE PROCEDURE create_user(
    p_username VARCHAR,
    p_email VARCHAR,
    p_password_hash VARCHAR,
    p_first_name VARCHAR,
    p_last_name VARCHAR,
    p_phone_number VARCHAR,
    OUT p_user_id UUID,
    OUT p_error VARCHAR
) AS $$
BEGIN
    p_user_id := NULL;
    p_error := NULL;
    IF email_exists(p_email) THEN p_error := 'Email already exists'; RETURN; END IF;
    IF username_exists(p_username) THEN p_error := 'Username already taken'; RETURN; END IF;
    IF p_email !~ '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$' THEN p_error := 'Invalid email format'; RETURN; END IF;
    IF p_username !~ '^[A-Za-z0-9_]+$' THEN p_error := 'Invalid username format'; RETURN; END IF;
    IF length(p_password_hash) <> 60 THEN p_error := 'Invalid password hash'; RETURN; END IF;
    BEGIN
        INSERT INTO users (username, email, email_normalized, password_hash, first_name, last_name, phone_number,
                           is_email_verified, account_status, role)
        VALUES (p_username, p_email, LOWER(p_email), p_password_hash, p_first_name, p_last_name, p_phone_number,
                FALSE, 'Active', 'User')
        RETURNING user_id INTO p_user_id;
        INSERT INTO verification_codes (user_id, code, code_hash, code_type, expires_at)
        SELECT p_user_id, c.code, md5(c.code), 'Email', CURRENT_TIMESTAMP + INTERVAL '15 minutes'
        FROM (SELECT generate_verification_code() AS code) c;
    EXCEPTION WHEN OTHERS THEN
        p_user_id := NULL;
        p_error := SQLERRM;
    END;
END;
$$ LANGUAGE plpgsql;

-- Procedure 2: verify_email
CREATE OR REPLACE PROCEDURE verify_email(
    p_user_id UUID,
    p_code VARCHAR,
    OUT p_success BOOLEAN,
    OUT p_error VARCHAR
) AS $$
DECLARE
    v_code verification_codes%ROWTYPE;
BEGIN
    p_success := FALSE;
    p_error := NULL;
    SELECT * INTO v_code FROM verification_codes
    WHERE user_id = p_user_id AND code_type = 'Email' AND is_used = FALSE
    ORDER BY created_at DESC LIMIT 1;
    IF NOT FOUND THEN p_error := 'Invalid verification code'; RETURN; END IF;
    IF v_code.attempts >= 5 THEN p_error := 'Too many attempts'; RETURN; END IF;
    IF v_code.expires_at <= CURRENT_TIMESTAMP THEN p_error := 'Verification code expired'; RETURN; END IF;
    IF v_code.code <> p_code THEN
        UPDATE verification_codes SET attempts = attempts + 1 WHERE verification_id = v_code.verification_id;
        p_error := 'Invalid verification code';
        RETURN;
    END IF;
    UPDATE users SET is_email_verified = TRUE, email_verified_at = CURRENT_TIMESTAMP WHERE user_id = p_user_id;
    UPDATE verification_codes SET is_used = TRUE, used_at = CURRENT_TIMESTAMP
    WHERE verification_id = v_code.verification_id;
    p_success := TRUE;
END;
$$ LANGUAGE plpgsql;

-- Procedure 3: create_user_session
CREATE OR REPLACE PROCEDURE create_user_session(
    p_user_id UUID,
    p_refresh_token VARCHAR,
    p_refresh_token_hash VARCHAR,
    p_device_type VARCHAR,
    p_device_info TEXT,
    p_ip_address VARCHAR,
    p_location VARCHAR,
    p_user_agent TEXT,
    p_expires_at TIMESTAMP,
    OUT p_session_id UUID
) AS $$
BEGIN
    INSERT INTO user_sessions (user_id, refresh_token, refresh_token_hash, device_type, device_info, ip_address,
                               location, user_agent, expires_at)
    VALUES (p_user_id, p_refresh_token, p_refresh_token_hash, p_device_type, p_device_info, p_ip_address,
            p_location, p_user_agent, p_expires_at)
    RETURNING session_id INTO p_session_id;
    UPDATE users SET last_login_at = CURRENT_TIMESTAMP, failed_login_attempts = 0, account_locked_until = NULL
    WHERE user_id = p_user_id;
    INSERT INTO user_login_history (user_id, login_identifier, login_status, device_type, device_info, ip_address,
                                    location, user_agent)
    SELECT p_user_id, u.email, 'Success', p_device_type, p_device_info, coalesce(p_ip_address, '0.0.0.0'),
           p_location, p_user_agent
    FROM users u WHERE u.user_id = p_user_id;
END;
$$ LANGUAGE plpgsql;

-- Procedure 4: revoke_user_sessions
-- FIX: no DEFAULTs on p_session_id and p_revoke_all, which precede the OUT parameter (see create_user).
CREATE OR REPLACE PROCEDURE revoke_user_sessions(
    p_user_id UUID,
    p_session_id UUID,
    p_revoke_all BOOLEAN,
    OUT p_sessions_revoked INTEGER
) AS $$
BEGIN
    p_sessions_revoked := 0;
    IF p_revoke_all THEN
        UPDATE user_sessions SET is_active = FALSE WHERE user_id = p_user_id AND is_active = TRUE;
        GET DIAGNOSTICS p_sessions_revoked = ROW_COUNT;
    ELSIF p_session_id IS NOT NULL THEN
        UPDATE user_sessions SET is_active = FALSE WHERE session_id = p_session_id AND user_id = p_user_id;
        GET DIAGNOSTICS p_sessions_revoked = ROW_COUNT;
    END IF;
END;
$$ LANGUAGE plpgsql;

-- Procedure 5: store_refresh_token
CREATE OR REPLACE PROCEDURE store_refresh_token(
    p_session_id UUID,
    p_refresh_token VARCHAR,
    p_refresh_token_hash VARCHAR,
    p_expires_at TIMESTAMP
) AS $$
BEGIN
    UPDATE user_sessions
    SET refresh_token = p_refresh_token, refresh_token_hash = p_refresh_token_hash, expires_at = p_expires_at,
        last_activity_at = CURRENT_TIMESTAMP
    WHERE session_id = p_session_id;
END;
$$ LANGUAGE plpgsql;

-- Procedure 6: update_user_profile
-- FIX: no DEFAULTs on the four optional inputs, which precede the OUT parameters (see create_user).
CREATE OR REPLACE PROCEDURE update_user_profile(
    p_user_id UUID,
    p_first_name VARCHAR,
    p_last_name VARCHAR,
    p_phone_number VARCHAR,
    p_profile_picture_url TEXT,
    OUT p_success BOOLEAN,
    OUT p_error VARCHAR
) AS $$
BEGIN
    p_success := FALSE;
    p_error := NULL;
    IF NOT EXISTS (SELECT 1 FROM users WHERE user_id = p_user_id) THEN
        p_error := 'User not found';
        RETURN;
    END IF;
    UPDATE users
    SET first_name = coalesce(p_first_name, first_name),
        last_name = coalesce(p_last_name, last_name),
        phone_number = coalesce(p_phone_number, phone_number),
        profile_picture_url = coalesce(p_profile_picture_url, profile_picture_url),
        updated_at = CURRENT_TIMESTAMP
    WHERE user_id = p_user_id;
    p_success := TRUE;
END;
$$ LANGUAGE plpgsql;

-- Procedure 7: soft_delete_user
-- FIX: no BEGIN TRANSACTION / COMMIT in the body (see create_user); the two updates are atomic.
CREATE OR REPLACE PROCEDURE soft_delete_user(
    p_user_id UUID,
    OUT p_success BOOLEAN,
    OUT p_error VARCHAR
) AS $$
BEGIN
    p_error := NULL;
    UPDATE users SET is_deleted = TRUE, deleted_at = CURRENT_TIMESTAMP, account_status = 'Deleted'
    WHERE user_id = p_user_id;
    IF NOT FOUND THEN
        p_success := FALSE;
        p_error := 'User not found';
        RETURN;
    END IF;
    UPDATE user_sessions SET is_active = FALSE WHERE user_id = p_user_id;
    p_success := TRUE;
END;
$$ LANGUAGE plpgsql;

-- Trigger 1: update_users_timestamp (as the seed gives it)
CREATE OR REPLACE FUNCTION update_timestamp()
RETURNS TRIGGER AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER update_users_timestamp
BEFORE UPDATE ON users
FOR EACH ROW
EXECUTE FUNCTION update_timestamp();

-- Trigger 2: validate_email_format (as the seed gives it)
CREATE OR REPLACE FUNCTION validate_email()
RETURNS TRIGGER AS $$
BEGIN
    IF NEW.email !~ '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$' THEN
        RAISE EXCEPTION 'Invalid email format: %', NEW.email;
    END IF;
    NEW.email_normalized = LOWER(NEW.email);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER validate_email_format
BEFORE INSERT OR UPDATE ON users
FOR EACH ROW
EXECUTE FUNCTION validate_email();
