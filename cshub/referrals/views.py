"""Referral pages: parse, call a selector or service, render (no rules here)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cshub.referrals import selectors


@login_required
def referral_detail(request: HttpRequest, uuid: str) -> HttpResponse:
    referral = selectors.referral_get_for_user(user=request.user, uuid=uuid)
    return render(request, "referrals/referral_detail.html", {"referral": referral})
