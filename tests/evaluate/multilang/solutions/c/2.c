    return number - floor(number);
}
