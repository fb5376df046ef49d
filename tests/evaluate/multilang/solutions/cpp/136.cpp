    std::optional<long> largest_negative, smallest_positive;
    for (long v : lst) {
        if (v < 0 && (!largest_negative || v > *largest_negative)) largest_negative = v;
        if (v > 0 && (!smallest_positive || v < *smallest_positive)) smallest_positive = v;
    }
    return {largest_negative, smallest_positive};
}
