    (void)interval1_len;
    (void)interval2_len;
    long start = interval1[0] > interval2[0] ? interval1[0] : interval2[0];
    long end = interval1[1] < interval2[1] ? interval1[1] : interval2[1];
    long length = end - start;
    if (length < 2) return "NO";
    for (long d = 2; d * d <= length; d++) {
        if (length % d == 0) return "NO";
    }
    return "YES";
}
