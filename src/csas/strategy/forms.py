from __future__ import annotations

from typing import Any

from django import forms

from csas.strategy.models import Action, Department


class ActionEditForm(forms.ModelForm[Action]):
    supporting_departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Action
        fields = ["title", "description", "status", "horizon", "supporting_departments"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supporting_departments"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 (narrowing)
        field.queryset = Department.objects.filter(city_id=self.instance.version.strategy.city_id)
