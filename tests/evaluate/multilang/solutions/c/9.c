    long *result = malloc((numbers_len + 1) * sizeof *result);
    for (size_t i = 0; i < numbers_len; i++) {
        result[i] = (i == 0 || numbers[i] > result[i - 1]) ? numbers[i] : result[i - 1];
    }
    *out_len = numbers_len;
    return result;
}
