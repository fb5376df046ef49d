    size_t n = strlen(string);
    char *result = malloc(n + 1);
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = (unsigned char)string[i];
        result[i] = (char)(isupper(ch) ? tolower(ch) : toupper(ch));
    }
    return result;
}
