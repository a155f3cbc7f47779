-- enrollment_db (seed 003, "Course Service" …): the seed's DDL as written, but for the fixes listed in packs/courses/README.md.

-- Enrollments Table (Enhanced)
CREATE TABLE enrollment (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    user_id BIGINT NOT NULL,
    course_id BIGINT NOT NULL,
    enrollment_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    completion_date TIMESTAMP NULL,
    progress_percentage DECIMAL(5,2) DEFAULT 0.00,
    status ENUM('ENROLLED', 'IN_PROGRESS', 'COMPLETED', 'DROPPED', 'EXPIRED') DEFAULT 'ENROLLED',
    certificate_issued BOOLEAN DEFAULT FALSE,
    certificate_url VARCHAR(500),
    last_accessed_at TIMESTAMP NULL,
    expires_at TIMESTAMP NULL,
    payment_id BIGINT,

    UNIQUE KEY unique_enrollment (user_id, course_id),
    -- Fix: the seed's FOREIGN KEYs to user(id) and course(id) name tables of other databases
    -- (user_db, course_db); with a database per service they are references by id only.
    INDEX idx_user (user_id),
    INDEX idx_course (course_id),
    INDEX idx_status (status),
    INDEX idx_enrollment_date (enrollment_date),
    INDEX idx_completion_date (completion_date)
);

-- Progress Tracking (Detailed)
CREATE TABLE progress_tracking (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    enrollment_id BIGINT NOT NULL,
    content_id BIGINT NOT NULL,
    completed BOOLEAN DEFAULT FALSE,
    completed_at TIMESTAMP NULL,
    time_spent_minutes INT DEFAULT 0,
    attempts_count INT DEFAULT 0,
    last_attempt_at TIMESTAMP NULL,
    score DECIMAL(5,2) NULL,

    FOREIGN KEY (enrollment_id) REFERENCES enrollment(id) ON DELETE CASCADE,
    UNIQUE KEY unique_progress (enrollment_id, content_id),
    INDEX idx_enrollment (enrollment_id),
    INDEX idx_content (content_id),
    INDEX idx_completed (completed)
);

-- Certificates
CREATE TABLE certificate (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    enrollment_id BIGINT NOT NULL,
    certificate_number VARCHAR(100) UNIQUE NOT NULL,
    issued_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    expiry_date TIMESTAMP NULL,
    certificate_url VARCHAR(500),
    qr_code_url VARCHAR(500),
    status ENUM('ACTIVE', 'REVOKED', 'EXPIRED') DEFAULT 'ACTIVE',

    FOREIGN KEY (enrollment_id) REFERENCES enrollment(id) ON DELETE CASCADE,
    INDEX idx_enrollment (enrollment_id),
    INDEX idx_certificate_number (certificate_number),
    INDEX idx_status (status)
);

-- Payments (if integrated)
CREATE TABLE payment (
    id BIGINT PRIMARY KEY AUTO_INCREMENT,
    enrollment_id BIGINT NOT NULL,
    amount DECIMAL(10,2) NOT NULL,
    currency VARCHAR(3) DEFAULT 'USD',
    payment_method VARCHAR(50),
    transaction_id VARCHAR(255) UNIQUE,
    status ENUM('PENDING', 'COMPLETED', 'FAILED', 'REFUNDED') DEFAULT 'PENDING',
    payment_date TIMESTAMP NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,

    FOREIGN KEY (enrollment_id) REFERENCES enrollment(id) ON DELETE CASCADE,
    INDEX idx_enrollment (enrollment_id),
    INDEX idx_transaction (transaction_id),
    INDEX idx_status (status)
);
