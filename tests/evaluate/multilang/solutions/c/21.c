    double low = numbers[0], high = numbers[0];
    for (size_t i = 1; i < numbers_len; i++) {
        if (numbers[i] < low) low = numbers[i];
        if (numbers[i] > high) high = numbers[i];
    }
    double *result = malloc(numbers_len * sizeof *result);
    for (size_t i = 0; i < numbers_len; i++) result[i] = (numbers[i] - low) / (high - low);
    *out_len = numbers_len;
    return result;
}
