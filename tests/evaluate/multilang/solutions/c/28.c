    size_t total = 0;
    for (size_t i = 0; i < strings_len; i++) total += strlen(strings[i]);
    char *result = malloc(total + 1);
    result[0] = '\0';
    for (size_t i = 0; i < strings_len; i++) strcat(result, strings[i]);
    return result;
}
