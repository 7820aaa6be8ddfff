SECRET_KEY = "test-secret-value-123"
